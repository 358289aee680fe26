/*
 * model.h - the parsed configuration as plain structs.
 *
 * A config is parsed once (model.c) from a node tree and is immutable
 * afterwards. It is reference-counted because a reload swaps in a new one
 * while probes started from the old one may still be in flight: each
 * in-flight probe holds a reference, and the last unref frees it.
 *
 * Later sections (slos, goals, milestones, alerts, notifiers, sources,
 * server) are accepted as known top-level keys and parsed by their own
 * modules as they arrive.
 */
#ifndef YS_CONFIG_MODEL_H
#define YS_CONFIG_MODEL_H

#include "config/read.h"
#include "slo/target.h"
#include "slo/window.h"

#include "core/cron.h"
#include "core/tz.h"
#include "slo/maintenance.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ys_diag;
struct ys_probe_type;
struct ys_notifier_type;

/* How long each resolution is kept; 0 means forever. */
struct ys_retention {
    int64_t raw_ms;    /* default 7d */
    int64_t minute_ms; /* default 35d */
    int64_t hour_ms;   /* default 400d */
    int64_t day_ms;    /* default 0 (forever) */
};

struct ys_storage_config {
    char *kind; /* "sqlite" (default) or "postgres" */
    /* Where the store is: for sqlite the database file (storage.path,
     * default var/yardstick.db, relative to the working directory); for
     * postgres the libpq connection string (storage.dsn). */
    char *path;
    struct ys_retention retention;
};

struct ys_check_defaults {
    int64_t interval_ms; /* default 30s */
    int64_t timeout_ms;  /* default 10s */
    char *timezone;      /* calendar windows and due dates; default "UTC" */
    int64_t evaluation_interval_ms; /* SLO/goal/milestone alert rules; default 1m */
};

struct ys_check {
    char *name;
    const struct ys_probe_type *type;
    int64_t interval_ms;
    int64_t timeout_ms;
    struct ys_strmap labels;
    int line, col;        /* where the check starts in the file */
    uint64_t fingerprint; /* hash of the check's whole subtree, for reload diffs */
    uint32_t store_id;    /* filled by the daemon once the store knows the check */
    int incident_open_after;  /* consecutive failures that open an incident (2) */
    int incident_close_after; /* consecutive successes that close it (1) */
    void *spec;           /* the kind's parsed fields; freed by type->free_spec */
    /* The `source:` of a kind that reads one (promql), resolved by name
     * into config->sources (model_source.c); NULL for other kinds. */
    const struct ys_source *source;
    /* locations: [home, eu-west]: probed by the daemons of these locations
     * (empty: by every daemon, as one series); the check is down in an
     * interval when at least down_when_failing of them fail (0: all). */
    struct ys_strlist locations;
    int down_when_failing;
};

enum ys_indicator { YS_SLI_AVAILABILITY = 0, YS_SLI_LATENCY };

/* slos: an objective over the events of one or more checks. */
struct ys_slo {
    char *name;
    int line, col;
    struct ys_strlist check_names; /* checks: [a, b] */
    struct ys_strmap selector;     /* selector: { area: networking } (all labels must match) */
    size_t n_members;              /* resolved: every check the SLO covers */
    size_t *members;               /* indices into config->checks */
    double objective;              /* ratio: 99.9% is 0.999 */
    struct ys_window window;       /* default rolling 30d */
    enum ys_indicator indicator;
    int64_t latency_threshold_ms;  /* YS_SLI_LATENCY: good = ok and faster than this */
};

enum ys_measure_kind {
    YS_MEASURE_MANUAL = 0, /* values recorded with `yardstick goal record` */
    YS_MEASURE_SLO,        /* an SLO's SLI over its window, in percent */
    YS_MEASURE_CHECK,      /* a statistic of one check */
    YS_MEASURE_SELECTOR,   /* a statistic over the checks matching a label selector */
    YS_MEASURE_PROMQL      /* a PromQL query over the window, on one or more sources */
};

/* How a PromQL measure merges its sources' values (each the mean of its
 * series): the lowest (default, the conservative choice for availability),
 * the highest, the mean of the sources' means, or the mean over every
 * series (each source weighted by its series count). */
enum ys_measure_merge { YS_MERGE_MIN = 0, YS_MERGE_MAX, YS_MERGE_AVG, YS_MERGE_WEIGHTED };

enum ys_measure_stat {
    YS_STAT_SLI = 0,        /* slo */
    YS_STAT_AVAILABILITY,   /* percent of probes ok */
    YS_STAT_P50, YS_STAT_P90, YS_STAT_P95, YS_STAT_P99, /* latency, seconds */
    YS_STAT_LAST_VALUE,     /* the last result's value */
    YS_STAT_CERT_DAYS_LEFT, /* days until the leaf certificate expires */
    YS_STAT_MTTR,           /* incidents: mean time to recovery, seconds */
    YS_STAT_LONGEST_OUTAGE, /* seconds */
    YS_STAT_INCIDENTS,      /* count */
    YS_STAT_DOWNTIME,       /* seconds */
    YS_STAT_PASS_SHARE,     /* selector: percent of its checks whose last result passed */
    YS_STAT_FRESHNESS,      /* age of the newest passing result, seconds */
    /* http cold_start: latency of cold / warm responses, seconds, from raw results */
    YS_STAT_COLD_P50, YS_STAT_COLD_P95, YS_STAT_WARM_P50, YS_STAT_WARM_P95
};

struct ys_measure {
    enum ys_measure_kind kind;
    char *ref;                 /* slo or check name */
    size_t ref_index;          /* resolved index into slos or checks */
    struct ys_strmap selector; /* YS_MEASURE_SELECTOR */
    enum ys_measure_stat stat;
    struct ys_window window;   /* default: the SLO's, else rolling 30d */
    /* YS_MEASURE_PROMQL: the query as written ($window not yet replaced),
     * the prometheus sources it runs on (resolved indices into
     * config->sources, in the order written) and how their values merge. */
    char *query;
    size_t *sources;
    size_t n_sources;
    enum ys_measure_merge merge;
};

struct ys_goal {
    char *id;
    int line, col;
    char *title;
    char *area;
    int priority;     /* 0..3 for P0..P3; -1 when not given */
    char *baseline;   /* the "current" written when the goal was set, as text */
    struct ys_target target;
    char *due_text;   /* as written, YYYY-MM-DD; NULL when none */
    int64_t due_ms;   /* end of the due day in defaults.timezone; 0 when none */
    struct ys_measure measure;
};

struct ys_milestone {
    char *title;
    int line, col;
    char *due_text;
    int64_t due_ms;
    struct ys_strlist goal_ids;
    size_t *goals; /* resolved indices into config->goals */
};

/* actions: the plan's checklists, kept to show in reports. */
struct ys_action {
    char *area;
    char *title;
    bool done;
};

/* One basic-auth user: the password is kept only as its SHA-256. */
struct ys_server_user {
    char *user;
    unsigned char password_sha256[32];
};

/* server: the HTTP server inside `yardstick run` (model_server.c). */
struct ys_server_config {
    bool enabled;            /* default true; server: { enabled: false } turns it off */
    bool listen_explicit;    /* listen was written (a busy port is then fatal) */
    char *host;              /* default "127.0.0.1"; an IPv6 address without brackets */
    int port;                /* default 8080 */
    struct ys_strlist tokens;     /* auth.tokens: bearer tokens (usually ${VAR}) */
    struct ys_server_user *users; /* auth.basic */
    size_t n_users;
    int64_t max_connections;        /* default 256 */
    int64_t max_connections_per_ip; /* default 64 */
    int64_t timeout_ms;             /* idle and header deadline; default 10s */
    char *ping_token; /* required on /ping/<check> when the check has no token; NULL: none */
};

/* instance: this daemon among several sharing one store (model_instance.c;
 * src/ha/). With one daemon every field keeps its default and nothing
 * changes: it probes every check and holds the lease alone. */
struct ys_instance_config {
    char *id;             /* unique per daemon; default "<hostname>/<pid>" */
    char *location;       /* where it probes from ("home", "eu-west"); default "default" */
    int shard_index;      /* shard: "i/n" probes the checks whose stable hash % n == i - 1; */
    int shard_count;      /*   0/0: every check (the default) */
    int64_t lease_ttl_ms; /* the leader's lease; default 15s, renewed every ttl/3 */
};

/* notifiers: where alert notifications go (src/notify/, model_notifier.c). */
struct ys_notifier {
    char *name;
    int line, col;
    const struct ys_notifier_type *type;
    void *spec;             /* the kind's parsed fields; freed by type->free_spec */
    int64_t timeout_ms;     /* one delivery attempt; default 10s */
    int64_t max_age_ms;     /* retried until a notification is this old; default 24h */
    int64_t rate_limit;     /* deliveries per rate_window_ms ("rate_limit: 20/1m"); 0: none */
    int64_t rate_window_ms;
};

/* sources: named endpoints that kinds read from (model_source.c). */
enum ys_source_kind { YS_SOURCE_PROMETHEUS = 0, YS_SOURCE_KUBERNETES };

struct ys_source {
    char *name;
    int line, col;
    enum ys_source_kind kind;
    char *url;                 /* base URL, http(s), without a trailing slash */
    char *bearer_token;        /* NULL: none */
    char *username, *password; /* basic_auth; NULL: none (never both with a token) */
    char *ca_file;             /* tls.ca_file; NULL: the system store */
    bool insecure_skip_verify; /* tls.insecure_skip_verify */
    struct ys_strmap headers;  /* sent with every request */
    int64_t timeout_ms;        /* 0: the check's timeout only */
    uint64_t fingerprint;      /* hash of the source's subtree, folded into its checks' */
    /* kubernetes (probe/k8s_kubeconfig.c): url is the API server, and
     * bearer_token, ca_file come from the kubeconfig or the pod. */
    char *token_file;           /* read at every request (rotated tokens); NULL: none */
    char *ca_pem;               /* certificate-authority-data, decoded; NULL: none */
    char *cert_file, *key_file; /* client-certificate / client-key paths */
    char *cert_pem, *key_pem;   /* client-certificate-data / client-key-data, decoded */
};

/* remote_write: Prometheus remote-write endpoints the daemon sends every
 * result to (model_remote_write.c; src/remote/). */
struct ys_remote_write {
    char *name;                /* unique; names the queue folder and the metrics */
    int line, col;
    char *url;                 /* the receiver's push URL, http(s) */
    struct ys_strmap headers;  /* sent with every request */
    char *bearer_token;        /* NULL: none */
    char *username, *password; /* basic_auth; NULL: none (never both with a token) */
    char *ca_file, *cert_file, *key_file; /* tls.*; NULL: the system store / no client cert */
    bool insecure_skip_verify;
    int64_t batch_size;        /* samples per request; default 500 */
    int64_t flush_interval_ms; /* a partial batch waits at most this; default 5s */
    int64_t queue_max;         /* bytes of the on-disk queue; default 64MiB */
    int64_t timeout_ms;        /* one request; default 30s */
    char *queue_dir;           /* the on-disk queue's folder; NULL: ys_remote_default_dir/<name> */
};

/* alerts: rules over checks, SLOs and goals (model_alert.c; src/alert/). */
enum ys_alert_kind {
    YS_ALERT_CHECK_DOWN = 0, /* an incident is open (the check's incident rule) */
    YS_ALERT_CERT_EXPIRY,    /* leaf certificate days left under a threshold */
    YS_ALERT_HEARTBEAT,      /* heartbeat missed / failed / too long / too short */
    YS_ALERT_SLO_BURN,       /* multi-window burn rate: page and ticket conditions */
    YS_ALERT_GOAL_STATUS,    /* goal status at risk or missed */
    YS_ALERT_MILESTONE_DUE   /* milestone due within due_within and not on track */
};

#define YS_ALERT_MAX_DAYS 8

struct ys_alert_rule {
    char *name;
    int line, col;
    enum ys_alert_kind kind;       /* when: check_down | cert_expiry | heartbeat | ... */
    struct ys_strlist check_names; /* checks: (none with no selector: every check of the kind) */
    struct ys_strmap selector;
    size_t n_members;
    size_t *members;               /* resolved indices into config->checks */
    struct ys_strlist slo_names;   /* slo_burn: (empty: every SLO) */
    size_t n_slos;
    size_t *slos;
    struct ys_strlist goal_ids;    /* goal_status, milestone_due: (empty: all) */
    int64_t days[YS_ALERT_MAX_DAYS]; /* cert_expiry: thresholds, descending; default 30 14 7 */
    size_t n_days;
    unsigned heartbeat_problems;   /* bit (1 << enum ys_hb_problem); default all */
    int64_t due_within_ms;         /* milestone_due: default 14d */
    char *severity;                /* default "warning" (slo_burn: "page"/"ticket" per condition) */
    struct ys_strmap labels;       /* added to every alert of the rule */
    struct ys_strmap annotations;  /* summary/description override; ${check} etc. expanded */
    struct ys_strlist notify;      /* notifier names */
    size_t *notifiers;             /* resolved indices into config->notifiers */
    int64_t repeat_interval_ms;    /* reminders while firing; 0: none (default 4h) */
};

/* maintenance: windows in which matching checks notify nobody. */
struct ys_maintenance {
    char *name;
    int line, col;
    struct ys_strlist check_names;
    struct ys_strmap selector;
    size_t n_members;
    size_t *members;       /* resolved indices into config->checks */
    struct ys_maint_window window; /* its cron and tz point at the two fields below */
    struct ys_cron cron;   /* recurring: "cron" + "duration" */
    struct ys_tz tz;       /* the cron's and the one-off times' zone (default defaults.timezone) */
    bool exclude_from_slo; /* results inside do not count for SLOs or goals */
};

struct ys_config {
    char *path;
    char *title; /* the plan's title ("Infrastructure Goals 2025"); NULL: none */
    struct ys_server_config server;
    struct ys_instance_config instance;
    struct ys_storage_config storage;
    struct ys_check_defaults defaults;
    /* defaults.timezone, loaded with the config (UTC when not written), so
     * code on the loop thread never reads a zone file. Owned; all zeros
     * (UTC) in a config built by hand. */
    struct ys_tz default_tz;
    struct ys_check *checks;
    size_t n_checks;
    struct ys_slo *slos;
    size_t n_slos;
    struct ys_goal *goals;
    size_t n_goals;
    struct ys_milestone *milestones;
    size_t n_milestones;
    struct ys_action *actions;
    size_t n_actions;
    struct ys_notifier *notifiers;
    size_t n_notifiers;
    struct ys_alert_rule *alerts;
    size_t n_alerts;
    struct ys_maintenance *maintenance;
    size_t n_maintenance;
    struct ys_source *sources;
    size_t n_sources;
    struct ys_remote_write *remote_writes;
    size_t n_remote_writes;
    atomic_int refs; /* any thread may ref and unref (the notifier thread does) */
    /* Private to model.c: open-addressing index of checks by name for
     * ys_config_find; slots hold check index + 1, 0 is empty; index_cap is
     * a power of two. NULL in a config built by hand: find then scans. */
    size_t *index;
    size_t index_cap;
};

/* Reads remote_write: (NULL or null: none) into c->remote_writes; private
 * to the model parser (model_remote_write.c). */
void ys_model_parse_remote_write(const struct ys_node *seq, struct ys_config *c,
                                 struct ys_diag *d);
void ys_model_free_remote_write(struct ys_config *c);

/* Loads and validates path. Returns 0 and an owned config (refs = 1), or
 * YS_ECONFIG with every problem in diag (which must be initialised with the
 * file name). */
int ys_config_load(const char *path, struct ys_config **out, struct ys_diag *diag);
/* The same from a string (tests, fuzzing); name is used in diagnostics. */
int ys_config_load_string(const char *text, size_t len, struct ys_config **out,
                          struct ys_diag *diag);
void ys_config_ref(struct ys_config *c);
/* Drops a reference; frees the config and every check spec at zero. */
void ys_config_unref(struct ys_config *c);
/* Returns the check named name, or NULL. Borrows. */
struct ys_check *ys_config_find(const struct ys_config *c, const char *name);
/* Returns the SLO named name / the goal with id, or NULL. Borrows. */
struct ys_slo *ys_config_find_slo(const struct ys_config *c, const char *name);
struct ys_goal *ys_config_find_goal(const struct ys_config *c, const char *id);

#endif
