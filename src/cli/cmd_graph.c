/*
 * cmd_graph.c - `yardstick graph flux`: the Flux Kustomizations' dependsOn
 * graph of a configured Kubernetes cluster, as Graphviz dot or Mermaid
 * text on stdout, for documenting it.
 *
 * The cluster is a `kubernetes` source of the configuration: named with
 * --source, taken from a flux check with --check (which also brings its
 * namespace and selector), or the only one there is. The Kustomizations
 * (kustomize.toolkit.fluxcd.io/v1) are listed once with the probes' list
 * client (probe/k8s_client.c: the same credentials, pagination and caps)
 * on a loop of its own; probe/k8s_flux_graph.c draws them. Exit 0 with the
 * graph, 1 when the API cannot be read (the reason on stderr), 2 on a usage
 * or configuration error. Main thread only.
 */
#include "cli/cli.h"

#include "core/log.h"
#include "probe/curl_multi.h"
#include "probe/k8s.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define KUSTOMIZATIONS "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"
#define DEFAULT_TIMEOUT_MS 10000

struct graph_opts {
    const char *config, *check, *source, *format;
};

/* What to list, resolved from the options. */
struct target {
    const struct ys_source *src;
    const char *path, *query;
    int64_t timeout_ms;
};

struct graph_run {
    bool mermaid;
    int rc;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: yardstick graph flux -c FILE [--check NAME | --source NAME]\n"
                 "                            [--format dot|mermaid]\n\n"
                 "Lists the Flux Kustomizations of a kubernetes source and prints their\n"
                 "spec.dependsOn graph: nodes are namespace/name with their Ready state, an\n"
                 "edge runs from a dependency to its dependent (the order Flux applies them).\n"
                 "Exit 0 with the graph, 1 when the API cannot be read, 2 on a usage error.\n\n"
                 "  -c, --config FILE     configuration file\n"
                 "      --check NAME      the cluster, namespace and selector of this flux check\n"
                 "      --source NAME     a kubernetes source (all namespaces)\n"
                 "  -f, --format FORMAT   dot (default, for Graphviz) or mermaid (graph TD)\n");
}

static int parse_args(int argc, char **argv, struct graph_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", required_argument, NULL, 'k'},
        {"source", required_argument, NULL, 's'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'k': o->check = optarg; break;
        case 's': o->source = optarg; break;
        case 'f': o->format = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return YS_EXIT_USAGE;
        }
    }
    if (optind >= argc || strcmp(argv[optind], "flux") != 0 || optind + 1 != argc) {
        fprintf(stderr, "yardstick graph: say what to draw: `yardstick graph flux`\n");
        usage(stderr);
        return YS_EXIT_USAGE;
    }
    if (o->check && o->source) {
        fprintf(stderr, "yardstick graph: use --check or --source, not both\n");
        return YS_EXIT_USAGE;
    }
    if (strcmp(o->format, "dot") != 0 && strcmp(o->format, "mermaid") != 0) {
        fprintf(stderr, "yardstick graph: --format must be dot or mermaid\n");
        return YS_EXIT_USAGE;
    }
    return ys_cli_set_logging("warn", NULL);
}

/* --check: a flux check's source and its Kustomizations list. */
static int target_of_check(const struct ys_config *cfg, const char *name, struct target *t)
{
    const struct ys_check *ck = ys_config_find(cfg, name);
    if (!ck) {
        fprintf(stderr, "yardstick graph: no check named '%s'\n", name);
        return YS_EXIT_USAGE;
    }
    if (strcmp(ck->type->name, "flux") != 0) {
        fprintf(stderr, "yardstick graph: check '%s' is a %s check, not flux\n", name,
                ck->type->name);
        return YS_EXIT_USAGE;
    }
    const struct ys_flux_spec *s = ck->spec;
    for (size_t i = 0; i < s->base.n_paths; i++) {
        if (s->helm[i])
            continue;
        t->src = ck->source;
        t->path = s->base.paths[i];
        t->query = s->base.query;
        t->timeout_ms = ck->timeout_ms;
        return 0;
    }
    fprintf(stderr, "yardstick graph: check '%s' lists no kustomizations (see its kinds:)\n", name);
    return YS_EXIT_USAGE;
}

/* --source NAME, or the only kubernetes source when name is NULL. */
static int target_of_source(const struct ys_config *cfg, const char *name, struct target *t)
{
    size_t found = 0;
    for (size_t i = 0; i < cfg->n_sources; i++) {
        const struct ys_source *s = &cfg->sources[i];
        if (name && strcmp(s->name, name) == 0 && s->kind != YS_SOURCE_KUBERNETES) {
            fprintf(stderr, "yardstick graph: source '%s' is not a kubernetes source\n", name);
            return YS_EXIT_USAGE;
        }
        if (s->kind == YS_SOURCE_KUBERNETES && (!name || strcmp(s->name, name) == 0)) {
            t->src = s;
            found++;
        }
    }
    if (found == 1) {
        t->path = KUSTOMIZATIONS;
        t->query = "";
        return 0;
    }
    if (name)
        fprintf(stderr, "yardstick graph: no source named '%s'\n", name);
    else if (found == 0)
        fprintf(stderr, "yardstick graph: the configuration has no kubernetes source\n");
    else
        fprintf(stderr,
                "yardstick graph: %zu kubernetes sources: name one with --source or "
                "--check\n",
                found);
    return YS_EXIT_USAGE;
}

static void on_list(json_t *items, struct ys_result *r, void *arg)
{
    struct graph_run *g = arg;
    if (!items) {
        fprintf(stderr, "yardstick graph: cannot list Kustomizations: %s\n", r->message);
        g->rc = YS_EXIT_FAIL;
        return;
    }
    ys_flux_graph_write(stdout, items, g->mermaid);
    g->rc = fflush(stdout) == 0 ? YS_EXIT_OK : YS_EXIT_FAIL;
}

/* Lists t's Kustomizations on a loop of its own and prints the graph. */
static int draw(const struct target *t, bool mermaid)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ys_curl_multi *multi = NULL;
    if (ys_curl_multi_new(&loop, &multi) < 0) {
        fprintf(stderr, "yardstick graph: cannot initialise libcurl\n");
        uv_loop_close(&loop);
        return YS_EXIT_FAIL;
    }
    struct graph_run g = {.mermaid = mermaid, .rc = YS_EXIT_FAIL};
    struct ys_result r;
    ys_result_init(&r);
    struct ys_k8s_list *l = NULL;
    int64_t timeout = t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS;
    if (t->src->timeout_ms > 0 && t->src->timeout_ms < timeout)
        timeout = t->src->timeout_ms;
    if (ys_k8s_list_start(multi, t->src, t->path, t->query, timeout, &r, on_list, &g, &l) < 0)
        fprintf(stderr, "yardstick graph: cannot list Kustomizations: %s\n",
                r.message[0] ? r.message : "the request could not start");
    else
        uv_run(&loop, UV_RUN_DEFAULT);
    ys_curl_multi_free(multi);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        ys_warn("graph", "loop closed with handles still open");
    return g.rc;
}

int ys_cmd_graph(int argc, char **argv)
{
    struct graph_opts o = {.format = "dot"};
    struct ys_config *cfg = NULL;
    struct target t = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        goto out;
    if ((rc = ys_cli_load_config(o.config, &cfg)) != 0)
        goto out;
    rc = o.check ? target_of_check(cfg, o.check, &t) : target_of_source(cfg, o.source, &t);
    if (rc != 0)
        goto out;
    rc = draw(&t, strcmp(o.format, "mermaid") == 0);
out:
    if (cfg)
        ys_config_unref(cfg);
    return rc < 0 ? YS_EXIT_OK : rc;
}
