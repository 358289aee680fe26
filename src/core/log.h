/*
 * log.h - leveled logging to stderr, as text or one JSON object per line.
 *
 * Every line names the component it comes from ("http", "store", "sched"),
 * so a reader can grep one subsystem. Logging is thread-safe: each line is
 * formatted into a local buffer and written with one write(2).
 */
#ifndef YS_CORE_LOG_H
#define YS_CORE_LOG_H

enum ys_log_level { YS_LOG_DEBUG = 0, YS_LOG_INFO, YS_LOG_WARN, YS_LOG_ERROR, YS_LOG_OFF };
enum ys_log_format { YS_LOG_TEXT = 0, YS_LOG_JSON };

void ys_log_setup(enum ys_log_level level, enum ys_log_format format);
/* Parses "debug|info|warn|error|off"; returns 0 or YS_EINVAL. */
int ys_log_parse_level(const char *s, enum ys_log_level *out);
/* Parses "text|json"; returns 0 or YS_EINVAL. */
int ys_log_parse_format(const char *s, enum ys_log_format *out);
int ys_log_enabled(enum ys_log_level level);

void ys_log(enum ys_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ys_debug(comp, ...) ys_log(YS_LOG_DEBUG, comp, __VA_ARGS__)
#define ys_info(comp, ...) ys_log(YS_LOG_INFO, comp, __VA_ARGS__)
#define ys_warn(comp, ...) ys_log(YS_LOG_WARN, comp, __VA_ARGS__)
#define ys_error(comp, ...) ys_log(YS_LOG_ERROR, comp, __VA_ARGS__)

#endif
