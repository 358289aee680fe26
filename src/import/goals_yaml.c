/*
 * goals_yaml.c - writes an imported plan as a goals file (YAML text).
 *
 * The file is written by hand rather than through libyaml's emitter so its
 * layout (comments, key order, one goal per block) reads like the example
 * in docs/import.md. Safety rests on one rule: every string is a
 * double-quoted scalar, escaped here (\" \\ and \uXXXX for every character
 * YAML does not allow raw: C0 and C1 controls, DEL, U+2028/9, U+FEFF, U+FFFE/F);
 * comments get the same characters replaced by U+FFFD, so no input text
 * can end a comment or a scalar early. Invalid UTF-8 cannot reach here
 * (the parser repairs its input) but is replaced by U+FFFD all the same.
 */
#include "import/markdown_goals.h"

#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *s;
    size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->s = ys_xrealloc(o->s, o->cap);
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Decodes one code point at s; returns its length (1 with cp = U+FFFD for
 * an invalid byte). */
static size_t decode(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0) {
        *cp = 0xfffd;
        return 1;
    }
    unsigned v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

/* Whether YAML forbids cp raw in a document, or reads it as a line break
 * (U+0085, U+2028 and U+2029 would fold into a space inside a scalar). */
static int needs_escape(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0xfeff || cp == 0xfffe || cp == 0xffff || (cp >= 0xd800 && cp <= 0xdfff) ||
           cp > 0x10ffff;
}

static void put_quoted(struct out *o, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    put(o, "\"", 1);
    for (size_t i = 0; u[i];) {
        unsigned cp;
        size_t k = decode(u + i, &cp);
        if (cp == '"' || cp == '\\') {
            put(o, "\\", 1);
            put(o, (const char *)u + i, 1);
        } else if (needs_escape(cp) || (k == 1 && u[i] >= 0x80)) {
            /* Lone surrogates, NUL and anything undecodable become U+FFFD. */
            int bad = cp == 0 || cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff);
            putf(o, "\\u%04X", bad ? 0xfffdu : cp);
        } else {
            put(o, (const char *)u + i, k);
        }
        i += k;
    }
    put(o, "\"", 1);
}

static void put_comment(struct out *o, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; u[i];) {
        unsigned cp;
        size_t k = decode(u + i, &cp);
        if (needs_escape(cp) || (k == 1 && u[i] >= 0x80))
            puts_(o, "\xef\xbf\xbd");
        else
            put(o, (const char *)u + i, k);
        i += k;
    }
}

static void put_field(struct out *o, const char *key, const char *value)
{
    if (!value)
        return;
    putf(o, "    %s: ", key);
    put_quoted(o, value);
    puts_(o, "\n");
}

static void put_goal(struct out *o, const struct ys_md_goal *g)
{
    if (!g->target) {
        putf(o, "  # line %d: the target \"", g->line);
        put_comment(o, g->target_text);
        puts_(o, "\" is not a typed target: it stands as \"yes\", recorded by hand\n");
    }
    puts_(o, "  - id: ");
    put_quoted(o, g->id);
    puts_(o, "\n");
    put_field(o, "title", g->title);
    put_field(o, "area", g->area);
    if (g->priority >= 0)
        putf(o, "    priority: \"P%d\"\n", g->priority);
    put_field(o, "baseline", g->baseline);
    put_field(o, "target", g->target ? g->target : "yes");
    put_field(o, "due", g->due);
    puts_(o, "    measure: \"manual\"\n");
    if (g->note) {
        puts_(o, "    # ");
        put_comment(o, g->note);
        puts_(o, "\n");
    }
}

static void put_milestone(struct out *o, const struct ys_md_milestone *m)
{
    if (m->note) {
        puts_(o, "  # ");
        put_comment(o, m->note);
        puts_(o, "\n");
    }
    puts_(o, "  - title: ");
    put_quoted(o, m->title);
    puts_(o, "\n");
    put_field(o, "due", m->due);
    puts_(o, "    goals: [");
    for (size_t i = 0; i < m->n_goal_ids; i++) {
        puts_(o, i ? ", " : "");
        put_quoted(o, m->goal_ids[i]);
    }
    puts_(o, "]\n");
}

static void put_header(struct out *o, const struct ys_md_plan *p, const char *source)
{
    puts_(o, "# Goals imported by `yardstick import goals` from ");
    put_comment(o, source ? source : "(stdin)");
    if (p->title) {
        puts_(o, "\n# (");
        put_comment(o, p->title);
        puts_(o, ")");
    }
    puts_(o, ".\n# Every goal is measured by hand (measure: manual) until it is bound to an\n"
             "# SLO or a check. A target that could not be typed is kept in a comment\n"
             "# above its goal and stands as target \"yes\".\n");
    if (p->title) {
        puts_(o, "title: ");
        put_quoted(o, p->title);
        puts_(o, "\n");
    }
}

char *ys_md_plan_to_yaml(const struct ys_md_plan *p, const char *source)
{
    struct out o = {NULL, 0, 0};
    put_header(&o, p, source);
    puts_(&o, p->n_goals ? "goals:\n" : "goals: []\n");
    for (size_t i = 0; i < p->n_goals; i++)
        put_goal(&o, &p->goals[i]);
    puts_(&o, p->n_milestones ? "milestones:\n" : "milestones: []\n");
    for (size_t i = 0; i < p->n_milestones; i++)
        put_milestone(&o, &p->milestones[i]);
    puts_(&o, p->n_actions ? "actions:\n" : "actions: []\n");
    for (size_t i = 0; i < p->n_actions; i++) {
        const struct ys_md_action *a = &p->actions[i];
        puts_(&o, "  - area: ");
        put_quoted(&o, a->area);
        puts_(&o, "\n    title: ");
        put_quoted(&o, a->title);
        putf(&o, "\n    done: %s\n", a->done ? "true" : "false");
    }
    return o.s;
}
