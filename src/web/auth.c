/*
 * auth.c - checks the Authorization header against server.auth.
 *
 * Tokens and user names are compared through their SHA-256 digests with
 * CRYPTO_memcmp: both sides then have the same length, so neither the
 * time taken nor an early length mismatch tells an attacker how much of a
 * guess was right. Every configured entry is compared (no early exit on a
 * match), for the same reason. Passwords are hashed with SHA-256 and
 * compared with the configured digest.
 *
 * The header is capped (MHD's connection memory limit bounds it, and a
 * Basic credential longer than 1 KiB is refused here). Pure apart from
 * OpenSSL; any thread.
 */
#include "web/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define CRED_MAX 1024

static void sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

bool ys_web_auth_required(const struct ys_server_config *s)
{
    return s->tokens.n > 0 || s->n_users > 0;
}

static bool check_bearer(const struct ys_server_config *s, const char *token)
{
    unsigned char got[32], want[32];
    sha256(token, strlen(token), got);
    int match = 0;
    for (size_t i = 0; i < s->tokens.n; i++) {
        sha256(s->tokens.v[i], strlen(s->tokens.v[i]), want);
        match |= CRYPTO_memcmp(got, want, 32) == 0;
    }
    return match && token[0] != '\0';
}

/* Decodes base64 into out (size >= 3/4 of the input + 1, terminated).
 * Returns the decoded length, or -1 when it is not base64. */
static int b64_decode(const char *in, unsigned char *out)
{
    size_t n = strlen(in);
    if (n == 0 || n % 4 != 0)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    for (size_t i = n; i > 0 && in[i - 1] == '='; i--)
        len--;
    out[len] = '\0';
    return len;
}

static bool check_basic(const struct ys_server_config *s, const char *cred)
{
    unsigned char buf[CRED_MAX];
    if (strlen(cred) >= (CRED_MAX / 4) * 3 - 4)
        return false;
    int len = b64_decode(cred, buf);
    if (len <= 0)
        return false;
    unsigned char *colon = memchr(buf, ':', (size_t)len);
    if (!colon)
        return false;
    unsigned char user[32], pass[32], want_user[32];
    sha256(buf, (size_t)(colon - buf), user);
    sha256(colon + 1, (size_t)(len - (colon + 1 - buf)), pass);
    OPENSSL_cleanse(buf, sizeof buf);
    int match = 0;
    for (size_t i = 0; i < s->n_users; i++) {
        const char *name = s->users[i].user ? s->users[i].user : "";
        sha256(name, strlen(name), want_user);
        int u = CRYPTO_memcmp(user, want_user, 32) == 0;
        int p = CRYPTO_memcmp(pass, s->users[i].password_sha256, 32) == 0;
        match |= u & p;
    }
    return match;
}

bool ys_web_auth_check(const struct ys_server_config *s, const char *authorization)
{
    if (!ys_web_auth_required(s))
        return true;
    if (!authorization)
        return false;
    const char *v = authorization;
    while (*v == ' ')
        v++;
    if (strncasecmp(v, "Bearer ", 7) == 0) {
        for (v += 7; *v == ' '; v++)
            ;
        return s->tokens.n > 0 && check_bearer(s, v);
    }
    if (strncasecmp(v, "Basic ", 6) == 0) {
        for (v += 6; *v == ' '; v++)
            ;
        return s->n_users > 0 && check_basic(s, v);
    }
    return false;
}

bool ys_web_is_loopback(const char *host)
{
    if (strcmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}
