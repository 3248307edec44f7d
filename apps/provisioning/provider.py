"""What the console's SCIM service announces (RFC 7643 §5-§7): the core User and Group
schemas, the enterprise extension and the console's own extension (a person's first working
day), the resource types, and the service provider configuration."""

from __future__ import annotations

from functools import cache

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    External,
    Filter,
    Patch,
    Reference,
    ResourceType,
    Schema,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.utils import load_default_schemas

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# The console's extension: what an HR record has that neither schema of RFC 7643 carries.
CONSOLE = "urn:ietf:params:scim:schemas:extension:martech:2.0:User"
MAX_RESULTS = 200  # a page of a search, at most

_CONSOLE_SCHEMA = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    "id": CONSOLE,
    "name": "ConsoleUser",
    "description": "What MarTech Console needs of a person beyond RFC 7643's schemas.",
    "attributes": [
        {
            "name": "startDate",
            "type": "string",
            "multiValued": False,
            "description": "The person's first working day, as an ISO 8601 date (the "
            "canonical value's form; a date-time counts by its date): tenure, on which access "
            "rules depend, is counted from it.",
            "canonicalValues": ["2026-01-05"],
            "required": False,
            "caseExact": False,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "none",
        }
    ],
}


def _resource_type(id_: str, endpoint: str, schema: str, extensions=()) -> ResourceType:
    return ResourceType.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": id_,
            "name": id_,
            "endpoint": endpoint,
            "description": f"{id_}s of the console, as the identity provider keeps them",
            "schema": schema,
            "schemaExtensions": [{"schema": e, "required": False} for e in extensions],
        }
    )


@cache
def provider() -> ScimProvider:
    """The service's description, built once per process."""
    schemas = [*load_default_schemas().values(), Schema.model_validate(_CONSOLE_SCHEMA)]
    resource_types = [
        _resource_type("User", "/Users", CORE_USER, (ENTERPRISE, CONSOLE)),
        _resource_type("Group", "/Groups", CORE_GROUP),
    ]
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="API token",
                description="A console API token of a person holding "
                "provisioning.provision_people, as Authorization: Bearer <token>",
                spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
            )
        ],
    )
    return ScimProvider.from_discovery(schemas, resource_types, config=config)
