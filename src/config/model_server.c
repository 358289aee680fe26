/*
 * model_server.c - the server: section of the configuration (model.h).
 *
 *   server:
 *     listen: 127.0.0.1:8080        # host:port, [::1]:8080 for IPv6
 *     enabled: true
 *     max_connections: 256
 *     max_connections_per_ip: 64
 *     timeout: 10s                  # idle limit and header deadline
 *     ping_token: ${PING_TOKEN}     # heartbeat pings (a check's own token wins)
 *     auth:
 *       tokens: ["${YS_TOKEN}"]     # bearer tokens, from the environment
 *       basic:
 *         - { user: admin, password_sha256: "<64 hex digits>" }
 *
 * Invariants of a parsed section: a host and a port in 1..65535, limits
 * >= 1, tokens non-empty, every basic user with a name and a 32-byte
 * digest. Passwords are never stored in clear: the config holds only the
 * SHA-256 the web server compares against (src/web/auth.c).
 *
 * Runs on the thread that loads the config.
 */
#include "config/model_int.h"

#include "config/read.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const server_keys[] = {
    "listen", "enabled", "auth", "max_connections", "max_connections_per_ip", "timeout",
    "ping_token", NULL,
};
static const char *const auth_keys[] = {"tokens", "basic", NULL};
static const char *const user_keys[] = {"user", "password_sha256", NULL};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 64 hex digits into out[32]; returns whether they were. */
static bool parse_digest(const char *s, unsigned char out[32])
{
    if (strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return true;
}

static void parse_user(const struct ys_node *n, struct ys_server_user *u, struct ys_diag *d)
{
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col,
                    "server.auth.basic entries must be mappings with user "
                    "and password_sha256");
        return;
    }
    ys_cfg_check_keys(n, user_keys, "server.auth.basic", d);
    const struct ys_node *user = ys_node_get(n, "user");
    const struct ys_node *pw = ys_node_get(n, "password_sha256");
    if (!user)
        ys_cfg_missing(n, "user", "server.auth.basic", d);
    else if (ys_cfg_string(user, "server.auth.basic.user", &u->user, d) == 0 && u->user &&
             (u->user[0] == '\0' || strchr(u->user, ':')))
        ys_diag_add(d, user->line, user->col,
                    "server.auth.basic.user must be non-empty and hold no ':'");
    char *hex = NULL;
    if (!pw) {
        ys_cfg_missing(n, "password_sha256", "server.auth.basic", d);
    } else if (ys_cfg_string(pw, "server.auth.basic.password_sha256", &hex, d) == 0 && hex &&
               !parse_digest(hex, u->password_sha256)) {
        ys_diag_add(d, pw->line, pw->col,
                    "server.auth.basic.password_sha256 must be 64 hex digits (the output of "
                    "`printf %%s PASSWORD | sha256sum`)");
    }
    free(hex);
}

static void parse_auth(const struct ys_node *n, struct ys_server_config *s, struct ys_diag *d)
{
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "server.auth must be a mapping with tokens or basic");
        return;
    }
    ys_cfg_check_keys(n, auth_keys, "server.auth", d);
    const struct ys_node *tokens = ys_node_get(n, "tokens");
    if (tokens && ys_cfg_strlist(tokens, "server.auth.tokens", &s->tokens, d) == 0) {
        for (size_t i = 0; i < s->tokens.n; i++)
            if (s->tokens.v[i][0] == '\0')
                ys_diag_add(d, tokens->line, tokens->col,
                            "server.auth.tokens: token %zu is empty (is its variable set?)", i + 1);
    }
    const struct ys_node *basic = ys_node_get(n, "basic");
    if (basic && basic->type == YS_NODE_SEQ) {
        s->users = ys_xcalloc(basic->n ? basic->n : 1, sizeof *s->users);
        s->n_users = basic->n;
        for (size_t i = 0; i < basic->n; i++)
            parse_user(basic->items[i], &s->users[i], d);
    } else if (basic && !(basic->type == YS_NODE_SCALAR && basic->is_null)) {
        ys_diag_add(d, basic->line, basic->col, "server.auth.basic must be a sequence of users");
    }
    /* An auth section that lets nobody in is a mistake, not "no auth". */
    if (s->tokens.n == 0 && s->n_users == 0)
        ys_diag_add(d, n->line, n->col, "server.auth needs at least one token or basic user");
}

static void parse_listen(const struct ys_node *n, struct ys_server_config *s, struct ys_diag *d)
{
    char *host = NULL;
    int port = 0;
    if (ys_cfg_hostport(n, "server.listen", &host, &port, d) < 0)
        return;
    free(s->host);
    s->host = host;
    s->port = port;
    s->listen_explicit = true;
}

void ys_model_parse_server(const struct ys_node *n, struct ys_config *c, struct ys_diag *d)
{
    struct ys_server_config *s = &c->server;
    s->enabled = true;
    s->host = ys_xstrdup("127.0.0.1");
    s->port = 8080;
    s->max_connections = 256;
    s->max_connections_per_ip = 64;
    s->timeout_ms = 10000;
    if (!n || (n->type == YS_NODE_SCALAR && n->is_null))
        return;
    if (n->type != YS_NODE_MAP) {
        ys_diag_add(d, n->line, n->col, "server must be a mapping, not %s", ys_node_type_name(n));
        return;
    }
    ys_cfg_check_keys(n, server_keys, "server", d);
    const struct ys_node *v;
    if ((v = ys_node_get(n, "enabled")))
        ys_cfg_bool(v, "server.enabled", &s->enabled, d);
    if ((v = ys_node_get(n, "listen")))
        parse_listen(v, s, d);
    if ((v = ys_node_get(n, "max_connections")))
        ys_cfg_int(v, "server.max_connections", 1, 100000, &s->max_connections, d);
    if ((v = ys_node_get(n, "max_connections_per_ip")))
        ys_cfg_int(v, "server.max_connections_per_ip", 1, 100000, &s->max_connections_per_ip, d);
    if ((v = ys_node_get(n, "timeout"))) {
        int64_t ms = s->timeout_ms;
        if (ys_cfg_duration(v, "server.timeout", &ms, d) == 0) {
            if (ms < 1000)
                ys_diag_add(d, v->line, v->col, "server.timeout must be at least 1s");
            else
                s->timeout_ms = ms;
        }
    }
    if ((v = ys_node_get(n, "auth")) && !(v->type == YS_NODE_SCALAR && v->is_null))
        parse_auth(v, s, d);
    /* Pings have their own token, apart from server.auth: a job's
     * credential should not also read the whole API. */
    if ((v = ys_node_get(n, "ping_token")) &&
        ys_cfg_string(v, "server.ping_token", &s->ping_token, d) == 0 && s->ping_token[0] == '\0')
        ys_diag_add(d, v->line, v->col,
                    "server.ping_token must not be empty (is its variable set?)");
}

void ys_model_free_server(struct ys_config *c)
{
    struct ys_server_config *s = &c->server;
    free(s->host);
    free(s->ping_token);
    ys_strlist_free(&s->tokens);
    for (size_t i = 0; i < s->n_users; i++)
        free(s->users[i].user);
    free(s->users);
    memset(s, 0, sizeof *s);
}
