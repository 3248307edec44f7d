"""gunicorn's settings for the console's web process.

gunicorn reads ``./gunicorn.conf.py`` by itself when started in the project folder (the image,
``make run``); ``docker-compose.yml`` and the benchmark name it with ``-c``. Only what must hold
everywhere is here; workers, threads and the bind address stay on each command line.

The access log never carries a write key: the HTTP Basic user (``%(u)s``, a source's write
key on the collection API) is not in the format, and the request line, query string and
referrer go through the same redaction as the console's own log (``aid=``, ``writeKey=``,
``write_key=``, tokens, passwords). The line ends with the server's request id, the one in
the audit log.
"""

from gunicorn.glogging import Logger

access_log_format = (
    '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'
)

# Request and environment atoms that carry credentials: never printed, whatever the format.
_HIDDEN_ATOMS = ("authorization", "cookie", "query_string", "raw_uri", "request_uri", "referer")


class RedactingLogger(Logger):
    """gunicorn's logger, with secrets taken out of the access log's fields."""

    def atoms(self, resp, req, environ, request_time):
        from martech.common.logging import redact

        atoms = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        for key in ("r", "q", "f", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in [k for k in atoms if k.startswith("{") and any(h in k for h in _HIDDEN_ATOMS)]:
            del atoms[key]
        return atoms


logger_class = RedactingLogger
