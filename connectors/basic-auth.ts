/**
 * HTTP Basic credentials (`Authorization: Basic <this>`), for REST and SOAP sources. The
 * base64 is the password in another form: an error page echoing the request headers (PHP's
 * debug output does) must have it masked as well as the password.
 */
export function basicCredentials(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}
