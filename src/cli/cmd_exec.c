/*
 * cmd_exec.c - `yardstick exec --check NAME -- COMMAND ARGS...`: runs a job
 * (a cron entry, a backup script) and reports it to a heartbeat check.
 *
 * Before the command starts it sends POST URL/ping/NAME/start?rid=ID; when
 * it ends, POST URL/ping/NAME/CODE?rid=ID with the last 10 KiB of the
 * command's output as a text/plain body. ID is 16 random hex digits, so
 * the daemon pairs the two pings of one run even when runs overlap. CODE is
 * the exit code, 128 + the signal for a command killed by one, or 127 for
 * one that cannot be started.
 *
 * The job matters more than the report: a daemon that is down, slow or
 * answering an error costs one line on stderr and at most --timeout per
 * ping, and the command runs whatever happens. exec exits with the
 * command's own code, so it drops into a crontab in front of any job.
 *
 * Output: the command's stdout and stderr are pipes that a poll loop copies
 * to exec's own stdout and stderr as data arrives, keeping the last
 * TAIL_MAX bytes of both, in arrival order, in a ring. SIGTERM and SIGINT
 * sent to exec are passed on to the command. Main thread only; blocking
 * libcurl easy calls are fine in a CLI.
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/duration.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define TAIL_MAX (10 * 1024)   /* the output sent with the end ping */
#define REPLY_MAX 200          /* the daemon's answer kept for a warning */
#define DRAIN_US (1000 * 1000) /* reading on after the command exits (see pump) */
#define DEFAULT_URL "http://127.0.0.1:8080"

struct exec_opts {
    const char *check, *url, *token;
    int64_t timeout_ms;
    char **argv; /* the command, NULL-terminated */
};

/* The last TAIL_MAX bytes written to it. */
struct tail {
    char buf[TAIL_MAX];
    size_t pos; /* where the next byte goes */
    size_t len; /* bytes held, at most TAIL_MAX */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: yardstick exec --check NAME [--url URL] [--token TOKEN] [--timeout 10s]\n"
            "                      -- COMMAND [ARGS...]\n\n"
            "Runs COMMAND and reports it to the heartbeat check NAME: a start ping before it\n"
            "runs, then its exit code and the last 10 KiB of its output. Its output still\n"
            "reaches the terminal, and exec exits with its exit code (128+N if killed by\n"
            "signal N, 127 if it cannot be started). An unreachable daemon only prints a\n"
            "warning: the command always runs.\n\n"
            "      --check NAME      the heartbeat check to report to\n"
            "      --url URL         the daemon (default: $YARDSTICK_URL, else " DEFAULT_URL ")\n"
            "      --token TOKEN     sent as a bearer token (default: $YARDSTICK_PING_TOKEN)\n"
            "      --timeout D       the longest each ping may take (default 10s)\n");
}

/* Whether s is one of the option values (then it is not the `--` separator). */
static bool is_optarg(const struct exec_opts *o, const char *s, const char *timeout)
{
    return s == o->check || s == o->url || s == o->token || s == timeout;
}

/* Fills o from the command line; 0, -1 after --help, or YS_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct exec_opts *o)
{
    static const struct option opts[] = {
        {"check", required_argument, NULL, 'c'}, {"url", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 't'}, {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *timeout = NULL;
    int c;
    optind = 1;
    /* "+": stop at the first non-option, so the command's own flags are
     * never taken for exec's. */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->check = optarg; break;
        case 'u': o->url = optarg; break;
        case 't': o->token = optarg; break;
        case 'T':
            timeout = optarg;
            if (ys_duration_parse(optarg, &o->timeout_ms) < 0 || o->timeout_ms <= 0) {
                fprintf(stderr, "yardstick exec: --timeout must be a duration such as 10s\n");
                return YS_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    const char *why = NULL;
    if (!o->check || !*o->check)
        why = "--check NAME is required";
    else if (optind < 2 || strcmp(argv[optind - 1], "--") != 0 ||
             is_optarg(o, argv[optind - 1], timeout))
        why = "expected -- before the command";
    else if (optind >= argc)
        why = "no command after --";
    if (why) {
        fprintf(stderr, "yardstick exec: %s\n", why);
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    o->argv = argv + optind;
    if (!o->url)
        o->url = getenv("YARDSTICK_URL");
    if (!o->url || !*o->url)
        o->url = DEFAULT_URL;
    if (!o->token)
        o->token = getenv("YARDSTICK_PING_TOKEN");
    return 0;
}

/* ---- the output tail ---- */

static void tail_add(struct tail *t, const char *p, size_t n)
{
    if (n >= TAIL_MAX) {
        memcpy(t->buf, p + n - TAIL_MAX, TAIL_MAX);
        t->pos = 0;
        t->len = TAIL_MAX;
        return;
    }
    size_t first = TAIL_MAX - t->pos < n ? TAIL_MAX - t->pos : n;
    memcpy(t->buf + t->pos, p, first);
    memcpy(t->buf, p + first, n - first);
    t->pos = (t->pos + n) % TAIL_MAX;
    t->len = t->len + n > TAIL_MAX ? TAIL_MAX : t->len + n;
}

/* Copies the held bytes, oldest first, into out (TAIL_MAX bytes); returns the count. */
static size_t tail_copy(const struct tail *t, char *out)
{
    size_t start = (t->pos + TAIL_MAX - t->len) % TAIL_MAX;
    size_t first = TAIL_MAX - start < t->len ? TAIL_MAX - start : t->len;
    memcpy(out, t->buf + start, first);
    memcpy(out + first, t->buf, t->len - first);
    return t->len;
}

/* ---- pings ---- */

struct pinger {
    bool global; /* curl_global_init succeeded */
    CURL *easy;
    struct curl_slist *headers;
    char *base;   /* URL/ping/<escaped check>, owned */
    char rid[17]; /* 16 hex digits */
    char reply[REPLY_MAX + 1];
    size_t reply_len;
};

static size_t on_reply(char *p, size_t size, size_t n, void *arg)
{
    struct pinger *pg = arg;
    size_t len = size * n, room = REPLY_MAX - pg->reply_len;
    memcpy(pg->reply + pg->reply_len, p, len < room ? len : room);
    pg->reply_len += len < room ? len : room;
    return len; /* the rest is read and dropped */
}

/* 16 random hex digits. RAND_bytes cannot really fail once OpenSSL has
 * seeded from getrandom(2); if it does, a clock-and-pid id still keeps
 * concurrent runs apart, which is all the id is for. */
static void make_run_id(char out[17])
{
    unsigned char b[8];
    if (RAND_bytes(b, sizeof b) != 1) {
        uint64_t x = (uint64_t)ys_mono_us() * 6364136223846793005u ^ (uint64_t)getpid() << 32;
        memcpy(b, &x, sizeof b);
    }
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int pinger_init(struct pinger *pg, const struct exec_opts *o)
{
    memset(pg, 0, sizeof *pg);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    pg->global = true;
    if (!(pg->easy = curl_easy_init()))
        return -1;
    make_run_id(pg->rid);
    char *esc = curl_easy_escape(pg->easy, o->check, 0);
    size_t n = strlen(o->url);
    while (n > 0 && o->url[n - 1] == '/')
        n--;
    pg->base = ys_xasprintf("%.*s/ping/%s", (int)n, o->url, esc ? esc : "");
    curl_free(esc);
    pg->headers = curl_slist_append(NULL, "Content-Type: text/plain");
    /* No "Expect: 100-continue" for bodies over 1 KiB: a second's wait
     * for nothing with servers that do not answer it. */
    pg->headers = curl_slist_append(pg->headers, "Expect:");
    if (o->token && *o->token) {
        char *h = ys_xasprintf("Authorization: Bearer %s", o->token);
        pg->headers = curl_slist_append(pg->headers, h);
        free(h);
    }
    CURL *e = pg->easy;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, pg->headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "yardstick-exec/" YS_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_reply);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, pg);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    return 0;
}

static void pinger_free(struct pinger *pg)
{
    if (pg->easy)
        curl_easy_cleanup(pg->easy);
    curl_slist_free_all(pg->headers);
    free(pg->base);
    if (pg->global)
        curl_global_cleanup();
}

/* POSTs body to base/what?rid=ID. On failure prints one line on stderr
 * naming what and why; the caller goes on either way. */
static void ping(struct pinger *pg, const char *what, const char *label, const char *body,
                 size_t len)
{
    char *url = ys_xasprintf("%s/%s?rid=%s", pg->base, what, pg->rid);
    char errbuf[CURL_ERROR_SIZE] = "";
    pg->reply_len = 0;
    curl_easy_setopt(pg->easy, CURLOPT_URL, url);
    curl_easy_setopt(pg->easy, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(pg->easy, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(pg->easy, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(pg->easy);
    long status = 0;
    curl_easy_getinfo(pg->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        fprintf(stderr, "yardstick exec: could not report %s to %s: %s\n", label, url,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else if (status < 200 || status > 299) {
        pg->reply[pg->reply_len] = '\0';
        pg->reply[strcspn(pg->reply, "\r\n")] = '\0'; /* the first line is enough */
        fprintf(stderr, "yardstick exec: could not report %s to %s: HTTP %ld%s%s\n", label, url,
                status, pg->reply[0] ? ": " : "", pg->reply);
    }
    curl_easy_setopt(pg->easy, CURLOPT_ERRORBUFFER, NULL);
    free(url);
}

/* ---- the child ---- */

/* The running command, for the signal handler; 0 when there is none. */
static volatile sig_atomic_t child_pid;

static void forward_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    /* A terminal's Ctrl-C (SI_KERNEL) already went to the whole foreground
     * process group, the command included; passing it on would deliver it
     * twice. Signals sent to exec alone (kill, a supervisor) are forwarded. */
    if (si && si->si_code == SI_KERNEL)
        return;
    pid_t p = (pid_t)child_pid;
    if (p > 0)
        kill(p, sig);
}

/* Writes all of p to fd; on error (say a closed stdout) gives up quietly:
 * the job must not die because exec's own output went away. */
static void write_all(int fd, const char *p, size_t n, bool *broken)
{
    while (n > 0 && !*broken) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *broken = true;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Starts argv with stdout and stderr on the write ends of out[] and err[].
 * Returns the pid, or -1 with errno set. SIGTERM and SIGINT are blocked
 * until child_pid is set, so one arriving meanwhile is forwarded too; the
 * child gets default dispositions (main ignores SIGPIPE, and ignored
 * signals would otherwise survive exec) and an empty mask. */
static pid_t spawn_child(char **argv, int out_w, int err_w)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t block, old, def, none;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &none);

    sigprocmask(SIG_BLOCK, &block, &old);
    struct sigaction sa = {.sa_sigaction = forward_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    if (rc == 0)
        child_pid = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    errno = rc;
    return rc == 0 ? pid : -1;
}

/* Copies the command's output through until both pipes close. A command
 * may leave a background process holding them open; once the command
 * itself has exited, reading goes on for at most DRAIN_US. */
static void pump(pid_t pid, int out_r, int err_r, struct tail *t)
{
    struct pollfd pfd[2] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}};
    bool broken[2] = {false, false}, exited = false;
    int64_t exited_at = 0;
    char buf[16384];
    for (int open = 2; open > 0;) {
        int n = poll(pfd, 2, exited ? 100 : 250);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(pfd[i].fd, buf, sizeof buf);
            if (r > 0) {
                write_all(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf, (size_t)r, &broken[i]);
                tail_add(t, buf, (size_t)r);
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open--;
            }
        }
        siginfo_t si = {0};
        if (!exited && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == pid) {
            exited = true;
            exited_at = ys_mono_us();
        } else if (exited && ys_mono_us() - exited_at > DRAIN_US) {
            break;
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
}

/* Waits for pid; returns its exit code, or 128 + the signal that killed it. */
static int reap(pid_t pid)
{
    siginfo_t si;
    /* Wait without reaping first, so child_pid is cleared while the pid
     * still belongs to our zombie and a late signal can never reach a
     * process that reused it. */
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    child_pid = 0;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : YS_EXIT_FAIL;
}

/* Runs the command. Returns its exit code; 127 with a message in the tail
 * (and on stderr) when it cannot be started. */
static int run_child(char **argv, struct tail *t)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        goto fail;
    if (pipe2(err, O_CLOEXEC) < 0) {
        close(out[0]), close(out[1]);
        goto fail;
    }
    pid_t pid = spawn_child(argv, out[1], err[1]);
    int saved = errno;
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        close(out[0]), close(err[0]);
        errno = saved;
        goto fail;
    }
    pump(pid, out[0], err[0], t);
    return reap(pid);
fail:;
    char *msg = ys_xasprintf("yardstick exec: cannot run '%s': %s\n", argv[0], strerror(errno));
    fputs(msg, stderr);
    tail_add(t, msg, strlen(msg));
    free(msg);
    return 127;
}

int ys_cmd_exec(int argc, char **argv)
{
    struct exec_opts o = {.timeout_ms = 10000};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? YS_EXIT_OK : rc;
    struct pinger pg;
    bool reporting = pinger_init(&pg, &o) == 0;
    if (!reporting)
        fprintf(stderr, "yardstick exec: libcurl failed to start; not reporting\n");
    if (reporting)
        ping(&pg, "start", "start", NULL, 0);

    struct tail *t = ys_xcalloc(1, sizeof *t);
    int code = run_child(o.argv, t);
    if (reporting) {
        char *body = ys_xmalloc(TAIL_MAX);
        size_t len = tail_copy(t, body);
        char what[16], label[32];
        snprintf(what, sizeof what, "%d", code);
        snprintf(label, sizeof label, "exit code %d", code);
        ping(&pg, what, label, body, len);
        free(body);
    }
    pinger_free(&pg);
    free(t);
    return code;
}
