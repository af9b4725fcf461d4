/* report.c: a drill's report as JSON and as a self-contained HTML page with an inline
 * SVG timeline (cli/report.h). */
#include "cli/report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/utf8.h"
#include "cli/cli.h"
#include "cli/json.h"

#define REPORT_FORMAT 1
/* Timeline geometry. Across, in percent of the drawing's width, which is the page's: it
 * fits any window and its text keeps its size. The time axis runs from SVG_PLOT_X0 over
 * SVG_PLOT_W; the room on its right holds the duration written after a bar that ends the
 * run. Down, in pixels: the axis, then per phase a row of its name above its bar. */
#define SVG_PLOT_X0   2.0
#define SVG_PLOT_W    84.0
#define SVG_BAR_W_MIN 0.25 /* percent: a check of microseconds still shows */
#define SVG_AXIS_H    34
#define SVG_ROW_H     40
#define SVG_NAME_Y    13 /* the name's baseline in its row */
#define SVG_BAR_Y     18
#define SVG_BAR_H     16
#define SVG_TICKS_MAX 10

_Static_assert(HW_REPORT_FACT_BYTES >= PATH_MAX, "a fact holds any path whole");

_Static_assert(HW_REPORT_TEXT_BYTES < HW_REPORT_FACT_BYTES, "vtext tells a detail was cut");

/* Text into a report's field of cap bytes (at most a fact's): cut short, it ends with
 * "..." at a character's boundary (hw_report_cut), so a reader sees it was cut and the
 * report stays UTF-8. */
static void vtext(char *dst, size_t cap, const char *fmt, va_list ap)
{
	char full[HW_REPORT_FACT_BYTES + 1]; /* a byte past any field: that it was longer */
	vsnprintf(full, sizeof full, fmt, ap);
	hw_report_cut(dst, cap, full);
}

void hw_report_init(struct hw_report *r, enum hw_drill_kind kind, const char *node)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->result = HW_DRILL_ERROR;
	hw_report_cut(r->node, sizeof(r->node), node ? node : "");
	r->started_ms = hw_wall_ms();
	r->t0 = hw_mono_s();
}

double hw_report_clock(const struct hw_report *r)
{
	return hw_mono_s() - r->t0;
}

static void vphase(struct hw_report *r, const char *name, double start_s, double end_s,
		   bool instant, enum hw_verdict v, const char *fmt, va_list ap)
{
	if (r->n_phases == HW_REPORT_PHASES_MAX) {
		r->dropped++;
		return;
	}
	struct hw_report_phase *p = &r->phases[r->n_phases++];
	hw_report_cut(p->name, sizeof(p->name), name);
	p->start_s = start_s;
	p->end_s = end_s < start_s ? start_s : end_s;
	p->instant = instant;
	p->verdict = v;
	vtext(p->detail, sizeof(p->detail), fmt, ap);
}

void hw_report_phase(struct hw_report *r, const char *name, double start_s, double end_s,
		     enum hw_verdict v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vphase(r, name, start_s, end_s, false, v, fmt, ap);
	va_end(ap);
}

void hw_report_event(struct hw_report *r, const char *name, double at_s, enum hw_verdict v,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vphase(r, name, at_s, at_s, true, v, fmt, ap);
	va_end(ap);
}

void hw_report_phase_begin(struct hw_report *r)
{
	r->phase_start = hw_report_clock(r);
}

void hw_report_phase_end(struct hw_report *r, const char *name, enum hw_verdict v, const char *fmt,
			 ...)
{
	va_list ap;
	va_start(ap, fmt);
	vphase(r, name, r->phase_start, hw_report_clock(r), false, v, fmt, ap);
	va_end(ap);
}

void hw_report_check(struct hw_report *r, const char *name, enum hw_verdict v, const char *fmt, ...)
{
	if (r->n_checks == HW_REPORT_CHECKS_MAX) {
		r->dropped++;
		return;
	}
	struct hw_report_check *c = &r->checks[r->n_checks++];
	hw_report_cut(c->name, sizeof(c->name), name);
	c->verdict = v;
	c->at_s = hw_report_clock(r);
	va_list ap;
	va_start(ap, fmt);
	vtext(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

void hw_report_figure(struct hw_report *r, const char *name, double value, const char *unit)
{
	if (r->n_figures == HW_REPORT_FIGURES_MAX) {
		r->dropped++;
		return;
	}
	struct hw_report_figure *g = &r->figures[r->n_figures++];
	hw_report_cut(g->name, sizeof(g->name), name);
	g->value = value;
	hw_report_cut(g->unit, sizeof(g->unit), unit ? unit : "");
}

void hw_report_fact(struct hw_report *r, const char *name, const char *fmt, ...)
{
	if (r->n_facts == HW_REPORT_FACTS_MAX) {
		r->dropped++;
		return;
	}
	struct hw_report_fact *f = &r->facts[r->n_facts++];
	hw_report_cut(f->name, sizeof(f->name), name);
	va_list ap;
	va_start(ap, fmt);
	vtext(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
}

static enum hw_verdict worse(enum hw_verdict a, enum hw_verdict b)
{
	if (a == HW_VERDICT_FAIL || b == HW_VERDICT_FAIL)
		return HW_VERDICT_FAIL;
	if (a == HW_VERDICT_WARN || b == HW_VERDICT_WARN)
		return HW_VERDICT_WARN;
	return HW_VERDICT_PASS;
}

enum hw_verdict hw_report_worst(const struct hw_report *r)
{
	enum hw_verdict v = HW_VERDICT_PASS;
	for (size_t i = 0; i < r->n_checks; i++)
		v = worse(v, r->checks[i].verdict);
	for (size_t i = 0; i < r->n_phases; i++)
		v = worse(v, r->phases[i].verdict);
	return v;
}

void hw_report_cut(char *dst, size_t cap, const char *s)
{
	static const char more[] = "...";
	if (cap < sizeof more)
		return;
	size_t n = strlen(s);
	if (n < cap) {
		memcpy(dst, s, n + 1);
		return;
	}
	memcpy(dst, s, cap - sizeof more);
	dst[cap - sizeof more] = '\0';
	hw_utf8_trim(dst);
	strcat(dst, more);
}

void hw_report_shorten(char *dst, size_t cap, const char *s, size_t max)
{
	static const char more[] = "...";
	size_t n = strlen(s), room = max < cap ? max : cap - 1;
	if (n <= room) {
		memcpy(dst, s, n + 1);
		return;
	}
	if (room < 2 * (sizeof more - 1)) { /* no room for both ends: the mark alone */
		snprintf(dst, cap, "%s", room >= sizeof more - 1 ? more : "");
		return;
	}
	size_t head = (room - (sizeof more - 1)) / 3, tail = room - (sizeof more - 1) - head;
	memcpy(dst, s, head);
	dst[head] = '\0';
	hw_utf8_trim(dst);
	const char *end = s + n - tail;
	while ((*end & 0xc0) == 0x80) /* a continuation byte: the character began before */
		end++;
	strcat(dst, more);
	strcat(dst, end);
}

void hw_report_finish(struct hw_report *r, enum hw_drill_result result, const char *fmt, ...)
{
	r->result = result;
	r->seconds = hw_report_clock(r);
	char full[4 * HW_DRILL_WHAT_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(full, sizeof full, fmt, ap);
	va_end(ap);
	hw_report_cut(r->what, sizeof(r->what), full);
}

void hw_report_finish_path(struct hw_report *r, enum hw_drill_result result, const char *before,
			   const char *path, const char *after)
{
	char p[sizeof(r->what)];
	size_t used = strlen(before) + strlen(after);
	hw_report_shorten(p, sizeof(p), path, used < sizeof(p) - 1 ? sizeof(p) - 1 - used : 0);
	hw_report_finish(r, result, "%s%s%s", before, p, after);
}

const char *hw_verdict_name(enum hw_verdict v)
{
	static const char *const names[] = {"pass", "warn", "fail", "skip"};
	return (unsigned)v < 4 ? names[v] : "?";
}

/* ---- JSON -------------------------------------------------------------------------- */

static void json_phases(struct hw_json *j, const struct hw_report *r)
{
	hw_json_key(j, "phases");
	hw_json_array_begin(j);
	for (size_t i = 0; i < r->n_phases; i++) {
		const struct hw_report_phase *p = &r->phases[i];
		hw_json_object_begin(j);
		hw_json_kv_string(j, "name", p->name);
		hw_json_kv_double(j, "start_s", p->start_s);
		hw_json_kv_double(j, "end_s", p->end_s);
		hw_json_kv_double(j, "seconds", p->end_s - p->start_s);
		hw_json_kv_bool(j, "instant", p->instant);
		hw_json_kv_string(j, "verdict", hw_verdict_name(p->verdict));
		hw_json_kv_string(j, "detail", p->detail);
		hw_json_object_end(j);
	}
	hw_json_array_end(j);
}

static void json_checks(struct hw_json *j, const struct hw_report *r)
{
	hw_json_key(j, "checks");
	hw_json_array_begin(j);
	for (size_t i = 0; i < r->n_checks; i++) {
		hw_json_object_begin(j);
		hw_json_kv_string(j, "name", r->checks[i].name);
		hw_json_kv_string(j, "verdict", hw_verdict_name(r->checks[i].verdict));
		hw_json_kv_string(j, "detail", r->checks[i].detail);
		hw_json_object_end(j);
	}
	hw_json_array_end(j);
}

static void json_figures_facts(struct hw_json *j, const struct hw_report *r)
{
	hw_json_key(j, "figures");
	hw_json_array_begin(j);
	for (size_t i = 0; i < r->n_figures; i++) {
		hw_json_object_begin(j);
		hw_json_kv_string(j, "name", r->figures[i].name);
		hw_json_kv_double(j, "value", r->figures[i].value);
		hw_json_kv_string(j, "unit", r->figures[i].unit);
		hw_json_object_end(j);
	}
	hw_json_array_end(j);
	hw_json_key(j, "facts");
	hw_json_object_begin(j);
	for (size_t i = 0; i < r->n_facts; i++) {
		hw_json_kv_string(j, r->facts[i].name, r->facts[i].value);
	}
	hw_json_object_end(j);
}

void hw_report_json(const struct hw_report *r, FILE *f)
{
	char when[40];
	struct hw_json j;
	hw_json_init(&j, f);
	hw_json_object_begin(&j);
	hw_json_kv_int(&j, "format", REPORT_FORMAT);
	hw_json_kv_string(&j, "kind", hw_drill_kind_name(r->kind));
	hw_json_kv_string(&j, "result", hw_drill_result_name(r->result));
	hw_json_kv_string(&j, "what", r->what);
	hw_json_kv_string(&j, "node", r->node);
	hw_json_kv_string(&j, "started", hw_cli_iso(r->started_ms, when, sizeof(when)));
	hw_json_kv_int(&j, "started_ms", r->started_ms);
	hw_json_kv_string(&j, "judged_at",
			  r->judged_ms ? hw_cli_iso(r->judged_ms, when, sizeof(when)) : NULL);
	hw_json_kv_double(&j, "seconds", r->seconds);
	json_phases(&j, r);
	json_checks(&j, r);
	json_figures_facts(&j, r);
	hw_json_kv_uint(&j, "dropped", r->dropped);
	hw_json_object_end(&j);
}

/* ---- HTML -------------------------------------------------------------------------- */

/* s as the page shows it: HTML's own characters as entities; a control character (C0,
 * DEL, C1 in UTF-8), '\\' or a byte that is not UTF-8 as a terminal shows it (base/log.h
 * hw_log_escaped: ESC as \x1b, a newline as \n, which HTML would show as a space, a raw
 * byte 0xff as \xff), so that a path or a node's words read back as they were, the page
 * stays valid UTF-8 and an operator finds on it the text the terminal showed. */
static void esc(FILE *f, const char *s)
{
	static const char html[] = "<>&\"'";
	static const char *const entity[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&#39;"};
	char shown[HW_LOG_ESCAPED_CHAR_MAX];
	for (; *s; s++) {
		const char *h = strchr(html, *s);
		if (h != NULL) {
			fputs(entity[h - html], f);
		} else {
			s += hw_log_escape_char(s, shown) - 1;
			fputs(shown, f);
		}
	}
}

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1b;max-width:1100px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
	"header{border-left:8px solid #9e9e9e;padding:8px 16px;background:#f5f5f5}"
	"header.PASS{border-color:#2e7d32}header.FAIL,header.ERROR{border-color:#c62828}"
	".badge{padding:1px 10px;border-radius:4px;color:#fff;background:#9e9e9e}"
	".PASS .badge{background:#2e7d32}.FAIL .badge,.ERROR .badge{background:#c62828}"
	".meta{color:#555}.judged{color:#b45309;font-weight:600}"
	/* a path or digest without spaces breaks where it must, not off the page; a name
	 * column only between words, so a detail's long path does not squeeze it */
	"header p,td,code{overflow-wrap:anywhere}td:first-child{overflow-wrap:break-word}"
	"table{border-collapse:collapse;width:100%}"
	"td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	".v{font-weight:600;text-transform:uppercase}"
	".v.pass{color:#2e7d32}.v.fail{color:#c62828}.v.warn{color:#b45309}.v.skip{color:#757575}"
	"svg{display:block}svg text{font:12px system-ui,sans-serif;fill:#1b1b1b}"
	"svg .tick{stroke:#ccc}svg .axis{stroke:#555}"
	"svg .pass{fill:#43a047}svg .fail{fill:#e53935}svg .warn{fill:#fb8c00}"
	"svg .skip{fill:#bdbdbd}svg .mark{stroke:#1b1b1b;stroke-width:1.5}code{font-size:12px}";

/* A round tick step (1, 2 or 5 times a power of ten) giving at most SVG_TICKS_MAX ticks. */
static double tick_step(double span)
{
	double raw = span / SVG_TICKS_MAX;
	double p = pow(10.0, floor(log10(raw)));
	if (raw <= p)
		return p;
	if (raw <= 2 * p)
		return 2 * p;
	return raw <= 5 * p ? 5 * p : 10 * p;
}

/* x of time t on the axis of span s, in percent. */
static double svg_x(double t, double span)
{
	return SVG_PLOT_X0 + SVG_PLOT_W * t / span;
}

/* The axis's ticks in one unit, the one its step is counted in: 100 us, 200 ms or 2 s,
 * never "0.0001 s" beside bars measured in us. */
static void svg_axis(FILE *f, double span, int height)
{
	double step = tick_step(span);
	double unit = step < 1e-3 ? 1e-6 : step < 1 ? 1e-3 : 1;
	const char *name = step < 1e-3 ? "\xc2\xb5s" /* UTF-8 micro sign */ : step < 1 ? "ms" : "s";
	fprintf(f, "<g class=\"axis-ticks\">");
	for (int i = 0; i <= SVG_TICKS_MAX + 1; i++) {
		double t = step * i;
		if (t > span * 1.0001)
			break;
		double x = svg_x(t, span);
		fprintf(f,
			"<line class=\"tick\" x1=\"%.2f%%\" y1=\"%d\" x2=\"%.2f%%\" y2=\"%d\"/>"
			"<text x=\"%.2f%%\" y=\"16\" text-anchor=\"middle\">%.6g %s</text>",
			x, SVG_AXIS_H - 8, x, height, x, t / unit, name);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%.2f%%\" y1=\"%d\" x2=\"%.2f%%\" y2=\"%d\"/></g>\n",
		SVG_PLOT_X0, SVG_AXIS_H - 8, SVG_PLOT_X0 + SVG_PLOT_W, SVG_AXIS_H - 8);
}

/* secs as the timeline writes a duration or a time: checks take microseconds, where
 * "0 ms" would say nothing. */
static const char *duration(double secs, char *buf, size_t cap)
{
	if (secs < 0.001)
		snprintf(buf, cap, "%.0f \xc2\xb5s", secs * 1e6);
	else
		hw_drill_duration_format((int64_t)llround(secs * 1000), buf, cap);
	return buf;
}

/* One row: the phase's name (whole, above the bar), a bar from its start to its end (an
 * event: a mark at its time) with its detail on hover, and its duration (its time). */
static void svg_phase(FILE *f, const struct hw_report_phase *p, size_t row, double span)
{
	double x = svg_x(p->start_s, span);
	double w = SVG_PLOT_W * (p->end_s - p->start_s) / span;
	w = w < SVG_BAR_W_MIN ? SVG_BAR_W_MIN : w;
	double y = SVG_AXIS_H + (double)row * SVG_ROW_H;
	const char *v = hw_verdict_name(p->verdict);
	char text[48], at[40];
	if (p->instant)
		snprintf(text, sizeof(text), "at %s", duration(p->start_s, at, sizeof(at)));
	else
		duration(p->end_s - p->start_s, text, sizeof(text));
	fputs("<g class=\"phase\" data-phase=\"", f);
	esc(f, p->name);
	fprintf(f, "\" data-verdict=\"%s\"><text x=\"%.2f%%\" y=\"%.1f\">", v, SVG_PLOT_X0,
		y + SVG_NAME_Y);
	esc(f, p->name);
	if (p->instant)
		fprintf(f, "</text><circle class=\"mark %s\" cx=\"%.2f%%\" cy=\"%.1f\" r=\"6\">", v,
			x, y + SVG_BAR_Y + SVG_BAR_H / 2.0);
	else
		fprintf(f,
			"</text><rect class=\"bar %s\" x=\"%.2f%%\" y=\"%.1f\" width=\"%.2f%%\""
			" height=\"%d\" rx=\"3\">",
			v, x, y + SVG_BAR_Y, w, SVG_BAR_H);
	fputs("<title>", f);
	esc(f, p->name);
	fprintf(f, ": %s, %s. ", text, v);
	esc(f, p->detail);
	fprintf(f, "</title></%s><text x=\"%.2f%%\" dx=\"%d\" y=\"%.1f\">%s</text></g>\n",
		p->instant ? "circle" : "rect", p->instant ? x : x + w, p->instant ? 10 : 6,
		y + SVG_BAR_Y + SVG_BAR_H - 3, text);
}

/* The phases in order of start (stable: phases that start together keep theirs), so the
 * timeline reads down as the run went, whatever order the drill recorded them in. */
static void by_start(const struct hw_report *r, size_t *order)
{
	for (size_t i = 0; i < r->n_phases; i++) {
		size_t j = i;
		for (; j > 0 && r->phases[order[j - 1]].start_s > r->phases[i].start_s; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

static void html_timeline(FILE *f, const struct hw_report *r)
{
	fputs("<h2>Timeline</h2>\n", f);
	if (r->n_phases == 0) { /* an axis with nothing on it would look like a hang */
		fputs("<p id=\"timeline-none\">Nothing was timed: the drill stopped before its "
		      "first"
		      " phase.</p>\n",
		      f);
		return;
	}
	double span = r->seconds;
	for (size_t i = 0; i < r->n_phases; i++)
		if (r->phases[i].end_s > span)
			span = r->phases[i].end_s;
	if (span < 0.001)
		span = 0.001;
	int height = SVG_AXIS_H + (int)r->n_phases * SVG_ROW_H + 4;
	fprintf(f,
		"<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\""
		" height=\"%d\" role=\"img\" aria-label=\"timeline of the %s drill: %zu phases over"
		" %.3f s\">\n",
		height, hw_drill_kind_name(r->kind), r->n_phases, span);
	svg_axis(f, span, height);
	size_t order[HW_REPORT_PHASES_MAX];
	by_start(r, order);
	for (size_t i = 0; i < r->n_phases; i++)
		svg_phase(f, &r->phases[order[i]], i, span);
	fputs("</svg>\n", f);
}

static void html_checks(FILE *f, const struct hw_report *r)
{
	if (r->n_checks == 0)
		return;
	fputs("<h2>Checks</h2>\n<table id=\"checks\"><tr><th>check</th><th>verdict</th>"
	      "<th>detail</th></tr>\n",
	      f);
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct hw_report_check *c = &r->checks[i];
		fputs("<tr><td>", f);
		esc(f, c->name);
		fprintf(f, "</td><td class=\"v %s\">%s</td><td>", hw_verdict_name(c->verdict),
			hw_verdict_name(c->verdict));
		esc(f, c->detail);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* v as a person reads it, never with an exponent: an integer whole, its thousands
 * separated (9,756,672 bytes); a fraction with three decimals (780.962 ms), or below 1
 * with six significant digits however small (0.000000770491). */
static void html_number(FILE *f, double v)
{
	double a = fabs(v);
	if (!isfinite(v) || a >= 0x1p53) { /* past the doubles that hold every integer */
		fprintf(f, "%.17g", v);
		return;
	}
	int decimals = a > 0 && a < 1 ? 5 - (int)floor(log10(a)) : a != floor(a) ? 3 : 0;
	char digits[64];
	snprintf(digits, sizeof(digits), "%.*f", decimals > 40 ? 40 : decimals, a);
	char *point = strchr(digits, '.');
	if (point) { /* 0.500000: 0.5 */
		char *end = point + strlen(point);
		while (end[-1] == '0')
			*--end = '\0';
		if (end[-1] == '.')
			*--end = '\0';
	}
	size_t whole = point ? (size_t)(point - digits) : strlen(digits);
	if (v < 0 && strcmp(digits, "0") != 0)
		fputc('-', f);
	for (size_t i = 0; digits[i]; i++) {
		if (i > 0 && i < whole && (whole - i) % 3 == 0)
			fputc(',', f);
		fputc(digits[i], f);
	}
}

static void html_figures_facts(FILE *f, const struct hw_report *r)
{
	if (r->n_figures > 0)
		fputs("<h2>Figures</h2>\n<table id=\"figures\">\n", f);
	for (size_t i = 0; i < r->n_figures; i++) {
		fputs("<tr><td>", f);
		esc(f, r->figures[i].name);
		fputs("</td><td class=\"num\">", f);
		html_number(f, r->figures[i].value);
		fputs("</td><td>", f);
		esc(f, r->figures[i].unit);
		fputs("</td></tr>\n", f);
	}
	if (r->n_figures > 0)
		fputs("</table>\n", f);
	if (r->n_facts > 0)
		fputs("<h2>Facts</h2>\n<table id=\"facts\">\n", f);
	for (size_t i = 0; i < r->n_facts; i++) {
		fputs("<tr><td>", f);
		esc(f, r->facts[i].name);
		fputs("</td><td><code>", f);
		esc(f, r->facts[i].value);
		fputs("</code></td></tr>\n", f);
	}
	if (r->n_facts > 0)
		fputs("</table>\n", f);
}

void hw_report_html(const struct hw_report *r, FILE *f)
{
	const char *kind = hw_drill_kind_name(r->kind);
	const char *res = hw_drill_result_name(r->result);
	char when[40];
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>hawser %s drill: %s</title>\n<style>%s</style></head>\n<body>\n",
		kind, res, css);
	fprintf(f,
		"<header class=\"%s\"><h1>%s drill: <span class=\"badge\" id=\"result\">%s"
		"</span></h1>\n<p class=\"what\">",
		res, kind, res);
	esc(f, r->what);
	fputs("</p>\n<p class=\"meta\">node <code>", f);
	esc(f, r->node);
	char took[40];
	fprintf(f, "</code>, started %s, took %s</p>\n",
		hw_cli_iso(r->started_ms, when, sizeof(when)),
		duration(r->seconds, took, sizeof(took)));
	if (r->judged_ms)
		fprintf(f, "<p class=\"judged\" id=\"judged\">judged at %s (--now): %s</p>\n",
			hw_cli_iso(r->judged_ms, when, sizeof(when)), HW_REPORT_WHAT_IF);
	fputs("</header>\n", f);
	html_timeline(f, r);
	html_checks(f, r);
	html_figures_facts(f, r);
	if (r->dropped)
		fprintf(f, "<p>%zu entries did not fit in the report.</p>\n", r->dropped);
	fputs("<footer class=\"meta\"><p>hawser drill report, format 1 (docs/drills.md)."
	      " The JSON file beside this page holds the same data.</p></footer>\n"
	      "</body></html>\n",
	      f);
}

/* ---- files ------------------------------------------------------------------------- */

/* Runs of one kind whose reports may share a start millisecond, and so a name: as many
 * as the drill history tells apart in one (replica/drills.h). */
#define REPORT_SAME_MS_MAX HW_DRILL_SEQ_MAX

/* emit r into a new file of dir, its name into tmp (cap bytes): mkstemp's own, so writers
 * sharing the directory never write into one file; flushed and synced. On error nothing
 * is left. */
static int write_tmp(const char *dir, const struct hw_report *r,
		     void (*emit)(const struct hw_report *, FILE *), char *tmp, size_t cap)
{
	if (snprintf(tmp, cap, "%s/.report-XXXXXX", dir) >= (int)cap)
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	FILE *f = fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL; /* mkstemp's 0600: others read */
	if (!f) {
		int rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	emit(r, f);
	int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Give the written file tmp the first free name of base.json, base-2.json, ... (its path
 * into json_path, its number into *nth): link() fails on a name that exists, so a run
 * never replaces another's report, even one started in the same millisecond. */
static int claim(const char *tmp, const char *base, char *json_path, size_t cap, int *nth)
{
	for (*nth = 1; *nth <= (int)REPORT_SAME_MS_MAX; (*nth)++) {
		int n = *nth == 1 ? snprintf(json_path, cap, "%s.json", base)
				  : snprintf(json_path, cap, "%s-%d.json", base, *nth);
		if (n >= (int)cap)
			return -ENAMETOOLONG;
		if (link(tmp, json_path) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int hw_report_write(const struct hw_report *r, const char *dir, char *json_path, char *html_path,
		    size_t cap)
{
	int rc = hw_fs_mkdirs(dir, 0755); /* new along with its parents */
	if (rc != 0)
		return rc;
	char when[40], stamp[40], base[PATH_MAX], tmp[PATH_MAX], abs[PATH_MAX];
	if (!realpath(dir, abs)) /* the paths outlive the drill's working directory */
		return -errno;
	hw_cli_iso(r->started_ms, when, sizeof(when));
	size_t n = 0;
	for (const char *s = when; *s && n + 1 < sizeof(stamp); s++)
		if (*s != '-' && *s != ':')
			stamp[n++] = *s; /* 20261126T100000.123Z: no ':' for other file systems */
	stamp[n] = '\0';
	if (snprintf(base, sizeof(base), "%s/%s-%s", abs, hw_drill_kind_name(r->kind), stamp) >=
	    (int)sizeof(base))
		return -ENAMETOOLONG;
	int nth;
	rc = write_tmp(abs, r, hw_report_json, tmp, sizeof(tmp));
	if (rc != 0)
		return rc;
	rc = claim(tmp, base, json_path, cap, &nth);
	unlink(tmp);
	if (rc != 0)
		return rc;
	/* the .json's name is this run's: the .html of that name is too */
	int len = nth == 1 ? snprintf(html_path, cap, "%s.html", base)
			   : snprintf(html_path, cap, "%s-%d.html", base, nth);
	rc = len >= (int)cap ? -ENAMETOOLONG : write_tmp(abs, r, hw_report_html, tmp, sizeof(tmp));
	if (rc == 0 && rename(tmp, html_path) != 0) {
		rc = -errno;
		unlink(tmp);
	}
	if (rc != 0) /* a report is both files or none: the run says "report not written" */
		unlink(json_path);
	return rc;
}
