/*
 * registry.c - the static table of notifier kinds.
 *
 * Adding a kind is one file (parse, free, format or run), one line here,
 * one case in tests/unit/test_notify_format.c and one entry in
 * docs/notifications.md.
 */
#include "notify/notify.h"

#include <string.h>

extern const struct ys_notifier_type ys_notifier_webhook;
extern const struct ys_notifier_type ys_notifier_slack;
extern const struct ys_notifier_type ys_notifier_alertmanager;
extern const struct ys_notifier_type ys_notifier_exec;

static const struct ys_notifier_type *const kinds[] = {
    &ys_notifier_webhook,
    &ys_notifier_slack,
    &ys_notifier_alertmanager,
    &ys_notifier_exec,
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])

const struct ys_notifier_type *ys_notifier_type_find(const char *name)
{
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

const char *const *ys_notifier_type_names(void)
{
    static const char *const names[N_KINDS + 1] = {"webhook", "slack", "alertmanager", "exec",
                                                   NULL};
    return names;
}
