/* report.h: the evidence a drill leaves behind: a JSON document for machines and a
 * self-contained HTML page for people (inline CSS and an inline SVG timeline of the
 * run's phases; no script, no external asset, so it opens from a file:// URL or an
 * e-mail attachment years later). docs/drills.md explains how to read one.
 *
 * A report is filled while the drill runs (phases, checks, figures, facts) and written
 * once at the end. Everything is stored in fixed arrays: a drill has a bounded number of
 * steps, and an entry past a bound is dropped (counted in dropped) rather than
 * allocated. Single-threaded: the CLI's main thread. */
#ifndef HW_CLI_REPORT_H
#define HW_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replica/drills.h"

/* The most steps any drill has (procedure: a dozen checks; verify with compares: a
 * phase per compared store up to HW_DRILL_COMPARE_MAX). */
#define HW_REPORT_PHASES_MAX  24
#define HW_REPORT_CHECKS_MAX  32
#define HW_REPORT_FIGURES_MAX 24
#define HW_REPORT_FACTS_MAX   24
#define HW_REPORT_NAME_BYTES  64
#define HW_REPORT_TEXT_BYTES  320
/* A fact holds a path whole: any path the system takes (PATH_MAX on Linux, with its
 * NUL), and a few words around it. */
#define HW_REPORT_FACT_BYTES  (4096 + 64)
#define HW_REPORT_UNIT_BYTES  16

/* Verdict of one phase or check. WARN and SKIP do not fail a drill. */
enum hw_verdict { HW_VERDICT_PASS, HW_VERDICT_WARN, HW_VERDICT_FAIL, HW_VERDICT_SKIP };

struct hw_report_phase {
	char name[HW_REPORT_NAME_BYTES];
	double start_s; /* seconds since the run started */
	double end_s;
	bool instant; /* an event at start_s (a fault), not a span: hw_report_event() */
	enum hw_verdict verdict;
	char detail[HW_REPORT_TEXT_BYTES];
};

struct hw_report_check {
	char name[HW_REPORT_NAME_BYTES];
	enum hw_verdict verdict;
	double at_s; /* when it was judged (report clock) */
	char detail[HW_REPORT_TEXT_BYTES];
};

struct hw_report_figure {
	char name[HW_REPORT_NAME_BYTES];
	double value;
	char unit[HW_REPORT_UNIT_BYTES];
};

struct hw_report_fact {
	char name[HW_REPORT_NAME_BYTES];
	char value[HW_REPORT_FACT_BYTES];
};

struct hw_report {
	enum hw_drill_kind kind;
	enum hw_drill_result result;
	char what[HW_DRILL_WHAT_BYTES];  /* the verdict in one line */
	char node[HW_REPORT_TEXT_BYTES]; /* node id or store directory */
	int64_t started_ms;              /* wall clock at the start */
	int64_t judged_ms; /* the time a what-if run was judged at (--now); 0: the clock */
	double t0;                       /* hw_mono_s() at the start */
	double seconds;                  /* set by hw_report_finish() */
	struct hw_report_phase phases[HW_REPORT_PHASES_MAX];
	size_t n_phases;
	double phase_start; /* of the phase begun by hw_report_phase_begin() */
	struct hw_report_check checks[HW_REPORT_CHECKS_MAX];
	size_t n_checks;
	struct hw_report_figure figures[HW_REPORT_FIGURES_MAX];
	size_t n_figures;
	struct hw_report_fact facts[HW_REPORT_FACTS_MAX];
	size_t n_facts;
	size_t dropped; /* entries past a bound */
};

/* What a report judged at another time (judged_ms) says of itself: such a run proves
 * nothing of now, so it leaves no history row. */
#define HW_REPORT_WHAT_IF "not recorded in the drill history"

/* Start a report of kind for node (copied), now. */
void hw_report_init(struct hw_report *r, enum hw_drill_kind kind, const char *node);

/* Seconds since the report started (the clock of phases). */
double hw_report_clock(const struct hw_report *r);

/* Add a phase that ran from start_s to end_s (report clock). */
void hw_report_phase(struct hw_report *r, const char *name, double start_s, double end_s,
		     enum hw_verdict v, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Add an event that happened at at_s (report clock), such as a fault: the timeline
 * marks it at its time instead of drawing a bar. */
void hw_report_event(struct hw_report *r, const char *name, double at_s, enum hw_verdict v,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Mark the start of a phase, then end it (adding it) with its verdict. */
void hw_report_phase_begin(struct hw_report *r);
void hw_report_phase_end(struct hw_report *r, const char *name, enum hw_verdict v, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

void hw_report_check(struct hw_report *r, const char *name, enum hw_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void hw_report_figure(struct hw_report *r, const char *name, double value, const char *unit);
void hw_report_fact(struct hw_report *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The worst verdict among the checks and phases: FAIL if any failed, else WARN if any
 * warned, else PASS. */
enum hw_verdict hw_report_worst(const struct hw_report *r);

/* s into dst (cap bytes, at least 4), whole when it fits; else cut at a character's
 * boundary and ended with "..." (ASCII), so that a reader sees it was cut. */
void hw_report_cut(char *dst, size_t cap, const char *s);

/* s into dst (cap bytes) whole when it is max bytes or fewer; else its start and its
 * end with "..." between, max bytes in all (less than cap), each part cut at a
 * character's boundary: a path shortened so the sentence around it stays whole. */
void hw_report_shorten(char *dst, size_t cap, const char *s, size_t max);

/* Set the result and its one-line reason (hw_report_cut into what), and stop the
 * clock. */
void hw_report_finish(struct hw_report *r, enum hw_drill_result result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* hw_report_finish with the line before, path, after: path shortened (hw_report_shorten)
 * so that the words around it fit whole. */
void hw_report_finish_path(struct hw_report *r, enum hw_drill_result result, const char *before,
			   const char *path, const char *after);

/* "pass", "warn", "fail", "skip". */
const char *hw_verdict_name(enum hw_verdict v);

/* Write the report as one JSON object (and a newline) to f. */
void hw_report_json(const struct hw_report *r, FILE *f);
/* Write the report as a complete HTML document to f. The SVG timeline is
 * <svg id="timeline">, as wide as the page (its text keeps its size), one
 * <g class="phase" data-phase="NAME" data-verdict="V"> per phase in order of start, its
 * name above a <rect class="bar"> (an event: a <circle class="mark">); a report without
 * phases has <p id="timeline-none"> instead: tests find them in the rendered DOM. */
void hw_report_html(const struct hw_report *r, FILE *f);

/* Write "<dir>/<kind>-<UTC stamp>.json" and ".html" (dir created, mode 0755, if
 * missing), their absolute paths (dir's realpath: a history row outlives the drill's
 * working directory) into json_path and html_path (cap bytes each). Another run's
 * report of that name is never replaced: the name then ends "-2", "-3" ... (runs of one
 * kind started in the same millisecond, by cron jobs sharing the directory). Each file is
 * written to a temporary name of its own (mkstemp in dir) and linked or renamed, so a
 * reader sees a whole file or none. When the .html cannot be written the .json is
 * removed again: a run leaves both files or neither. Returns 0 or -errno. */
int hw_report_write(const struct hw_report *r, const char *dir, char *json_path, char *html_path,
		    size_t cap);

#endif
