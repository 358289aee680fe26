/*
 * auth.h - who may read the API: bearer tokens and basic-auth users from
 * server.auth (config/model.h), compared in constant time.
 */
#ifndef YS_WEB_AUTH_H
#define YS_WEB_AUTH_H

#include "config/model.h"

#include <stdbool.h>

/* Whether s asks for authentication (any token or basic user). */
bool ys_web_auth_required(const struct ys_server_config *s);
/* Whether an Authorization header value (NULL: none) is accepted by s:
 * "Bearer <token>" matching a token, or "Basic <base64 user:password>"
 * whose password's SHA-256 matches that user's. Always true when s needs
 * no auth. Thread-safe. */
bool ys_web_auth_check(const struct ys_server_config *s, const char *authorization);
/* Whether host (as in server.listen) is a loopback address or "localhost". */
bool ys_web_is_loopback(const char *host);

#endif
