/** The user name ACR expects with a refresh token (what `az acr login` uses). */
export const ACR_TOKEN_USER = '00000000-0000-0000-0000-000000000000';

export type AcrTokenExchange = (loginServer: string, aadAccessToken: string, tenantId: string) => Promise<string>;

/**
 * Exchanges the deployer's Azure AD access token for an ACR refresh token, so images are
 * pushed as the deployer (who holds AcrPush) with the registry's admin user off: no registry
 * password exists anywhere. `endpoint` defaults to the registry itself.
 */
export async function exchangeAcrRefreshToken(
  loginServer: string,
  aadAccessToken: string,
  tenantId: string,
  endpoint = `https://${loginServer}`,
): Promise<string> {
  const response = await fetch(`${endpoint}/oauth2/exchange`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'access_token', service: loginServer, tenant: tenantId, access_token: aadAccessToken }),
  });
  if (!response.ok) {
    throw new Error(`ACR ${loginServer} refused the token exchange (HTTP ${response.status}): ${(await response.text()).slice(0, 300)}`);
  }
  const { refresh_token: refreshToken } = (await response.json()) as { refresh_token?: string };
  if (!refreshToken) throw new Error(`ACR ${loginServer} answered the token exchange without a refresh_token`);
  return refreshToken;
}
