// A standards-compliant OpenID Connect provider (panva's oidc-provider) on a loopback port,
// for the console's single sign-on tests. OIDC_PROVIDER_CONFIG (JSON) names the clients and
// the accounts: {"clients": [{client_id, client_secret, redirect_uris}], "accounts": {login:
// claims}}. The development sign-in form accepts any password; its login names the account.
// The first line printed is "listening <port>".
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_PROVIDER_CONFIG || '{}');
const accounts = config.accounts || {};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: config.clients || [],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) {
        return undefined;
      }
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    features: { devInteractions: { enabled: true } },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  server.on('request', provider.callback());
  console.log(`listening ${port}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
