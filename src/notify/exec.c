/*
 * exec.c - the `exec` notifier: runs a command with the event document on
 * its stdin, e.g. to trigger a rollback, a node repair or a local script.
 *
 *   - name: rollback
 *     kind: exec
 *     command: [/usr/local/bin/rollback, --service, api]   (argv; required)
 *     timeout: 30s                                          (default 10s)
 *
 * The command is run directly (no shell; write [sh, -c, "..."] for one),
 * found on PATH, in a process group of its own, with stdin holding the
 * event document (a memfd, so a command that never reads it
 * cannot block yardstick), stdout and stderr on a pipe whose first 512
 * bytes go into the row's last_error when it fails, and these variables
 * added to yardstick's environment:
 *   YARDSTICK_NOTIFIER, YARDSTICK_ALERT_STATUS (firing|resolved),
 *   YARDSTICK_ALERT_REPEAT (true|false), YARDSTICK_ALERT_KEY,
 *   YARDSTICK_ALERT_RULE, YARDSTICK_ALERT_SEVERITY, YARDSTICK_ALERT_SUMMARY,
 *   YARDSTICK_ALERT_URL, YARDSTICK_ALERT_FIRING_AT, YARDSTICK_ALERT_RESOLVED_AT.
 * Exit status 0 means delivered; anything else is a failed attempt,
 * retried like an HTTP error. At the timeout the whole process group is
 * killed (SIGKILL), so `sh -c` and whatever it started go too.
 *
 * The caller (the outbox thread) watches the process through a pidfd
 * (readable when it exits) and the pipe, and reaps it; nothing here
 * blocks except ys_notify_proc_kill's wait for a process just killed.
 */
#include "notify/notifier_int.h"

#include "config/diag.h"
#include "config/node.h"
#include "config/read.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct exec_spec {
    struct ys_strlist argv;
};

static const char *const keys[] = {"command", NULL};

static void exec_free(void *p)
{
    struct exec_spec *s = p;
    if (!s)
        return;
    ys_strlist_free(&s->argv);
    free(s);
}

static int exec_parse(const struct ys_node *n, void **spec, struct ys_diag *d)
{
    const struct ys_node *cmd = ys_node_get(n, "command");
    if (!cmd) {
        ys_cfg_missing(n, "command", "an exec notifier", d);
        return YS_ECONFIG;
    }
    struct exec_spec *s = ys_xcalloc(1, sizeof *s);
    int rc = ys_cfg_strlist(cmd, "command", &s->argv, d);
    if (rc == 0 && s->argv.n == 0) {
        ys_diag_add(d, cmd->line, cmd->col, "command must name a program");
        rc = YS_ECONFIG;
    } else if (rc == 0 && cmd->type == YS_NODE_SCALAR && strchr(s->argv.v[0], ' ')) {
        /* No shell splits it: "a b" would be a program called "a b". */
        ys_diag_add(d, cmd->line, cmd->col,
                    "command is a list of arguments, not a shell line (write [sh, -c, \"%s\"] "
                    "to run it with a shell)",
                    s->argv.v[0]);
        rc = YS_ECONFIG;
    } else if (rc == 0 && s->argv.v[0][0] == '\0') {
        ys_diag_add(d, cmd->line, cmd->col, "command must name a program");
        rc = YS_ECONFIG;
    }
    if (rc < 0) {
        exec_free(s);
        return rc;
    }
    /* posix_spawn wants argv NULL-terminated; the list's count stays n. */
    s->argv.v = ys_xrealloc(s->argv.v, (s->argv.n + 1) * sizeof *s->argv.v);
    s->argv.v[s->argv.n] = NULL;
    *spec = s;
    return 0;
}

/* environ without our own variables, plus the event's. Owned array of
 * owned strings, NULL-terminated. */
static char **make_env(const json_t *ev, const char *notifier)
{
    const char *repeat = json_is_true(json_object_get(ev, "repeat")) ? "true" : "false";
    const struct {
        const char *name, *value;
    } add[] = {
        {"YARDSTICK_NOTIFIER", notifier},
        {"YARDSTICK_ALERT_STATUS", ys_notify_status(ev)},
        {"YARDSTICK_ALERT_REPEAT", repeat},
        {"YARDSTICK_ALERT_KEY", ys_notify_str(ev, NULL, "key")},
        {"YARDSTICK_ALERT_RULE", ys_notify_str(ev, NULL, "rule")},
        {"YARDSTICK_ALERT_SEVERITY", ys_notify_str(ev, "labels", "severity")},
        {"YARDSTICK_ALERT_SUMMARY", ys_notify_str(ev, "annotations", "summary")},
        {"YARDSTICK_ALERT_URL", ys_notify_str(ev, NULL, "url")},
        {"YARDSTICK_ALERT_FIRING_AT", ys_notify_str(ev, NULL, "firing_at")},
        {"YARDSTICK_ALERT_RESOLVED_AT", ys_notify_str(ev, NULL, "resolved_at")},
    };
    size_t n_add = sizeof add / sizeof add[0], n_env = 0;
    while (environ && environ[n_env])
        n_env++;
    char **env = ys_xcalloc(n_env + n_add + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "YARDSTICK_ALERT_", 16) != 0 &&
            strncmp(environ[i], "YARDSTICK_NOTIFIER=", 19) != 0)
            env[k++] = ys_xstrdup(environ[i]);
    for (size_t i = 0; i < n_add; i++)
        env[k++] = ys_xasprintf("%s=%s", add[i].name, add[i].value ? add[i].value : "");
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
    free(env);
}

/* A memfd holding doc, positioned at its start, for the child's stdin. */
static int stdin_file(const char *doc, struct ys_err *err)
{
    int fd = memfd_create("yardstick-event", MFD_CLOEXEC);
    if (fd < 0)
        return ys_err_set(err, YS_EIO, "memfd_create: %s", strerror(errno));
    size_t len = strlen(doc), off = 0;
    while (off < len) {
        ssize_t w = write(fd, doc + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return ys_err_set(err, YS_EIO, "writing the event for the command: %s", strerror(e));
        }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int spawn(const struct exec_spec *s, int in_fd, int out_fd, char **env, pid_t *pid,
                 struct ys_err *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    /* libcurl's sockets and the store's files are not all close-on-exec. */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE); /* main() ignores it; the command should not */
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(pid, s->argv.v[0], &fa, &attr, s->argv.v, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return ys_err_set(err, YS_EIO, "cannot run '%s': %s", s->argv.v[0], strerror(rc));
    return 0;
}

static int exec_start(const void *spec, const json_t *event, const char *doc, const char *notifier,
                      struct ys_notify_proc *out, struct ys_err *err)
{
    const struct exec_spec *s = spec;
    memset(out, 0, sizeof *out);
    out->pidfd = out->out_fd = -1;
    int in_fd = stdin_file(doc, err);
    if (in_fd < 0)
        return in_fd;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        close(in_fd);
        return ys_err_set(err, YS_EIO, "pipe: %s", strerror(errno));
    }
    char **env = make_env(event, notifier);
    pid_t pid = 0;
    int rc = spawn(s, in_fd, pipefd[1], env, &pid, err);
    free_env(env);
    close(in_fd);
    close(pipefd[1]);
    if (rc < 0) {
        close(pipefd[0]);
        return rc;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    out->pid = pid;
    out->out_fd = pipefd[0];
    /* Without pidfds (old kernels) the caller polls waitpid instead. */
    out->pidfd = pidfd_open(pid, 0);
    return 0;
}

void ys_notify_proc_drain(struct ys_notify_proc *p)
{
    char buf[4096];
    while (p->out_fd >= 0) {
        ssize_t r = read(p->out_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(p->out_fd); /* end of output: nothing more to watch */
                p->out_fd = -1;
            }
            return;
        }
        size_t room = sizeof p->out - 1 - p->out_len, take = (size_t)r < room ? (size_t)r : room;
        memcpy(p->out + p->out_len, buf, take);
        p->out_len += take;
        p->out[p->out_len] = '\0';
    }
}

bool ys_notify_proc_reap(struct ys_notify_proc *p, int *status)
{
    if (p->pid <= 0)
        return false;
    pid_t r;
    do
        r = waitpid(p->pid, status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return false;
    if (r < 0)
        *status = 0x7f00; /* already reaped elsewhere: report as a failure */
    p->pid = 0;
    return true;
}

void ys_notify_proc_kill(struct ys_notify_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
    int st;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
}

void ys_notify_proc_close(struct ys_notify_proc *p)
{
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->out_fd = p->pidfd = -1;
}

void ys_notify_proc_describe(const struct ys_notify_proc *p, int status, struct ys_err *err)
{
    char out[200];
    size_t j = 0;
    for (size_t i = 0; i < p->out_len && j + 1 < sizeof out; i++)
        out[j++] = (p->out[i] == '\n' || p->out[i] == '\r') ? ' ' : p->out[i];
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
    const char *sep = j ? ": " : "";
    if (WIFEXITED(status))
        ys_err_set(err, YS_EIO, "exit status %d%s%s", WEXITSTATUS(status), sep, out);
    else if (WIFSIGNALED(status))
        ys_err_set(err, YS_EIO, "killed by signal %d%s%s", WTERMSIG(status), sep, out);
    else
        ys_err_set(err, YS_EIO, "ended abnormally%s%s", sep, out);
}

static const struct ys_notifier_ops ops = {
    .exec_start = exec_start,
};

const struct ys_notifier_type ys_notifier_exec = {
    .name = "exec",
    .keys = keys,
    .parse = exec_parse,
    .free_spec = exec_free,
    .ops = &ops,
};
