// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tests and estimates of compare: Mann-Whitney U (exact for small samples without ties,
 * else the normal approximation), the Hodges-Lehmann shift with its distribution-free interval,
 * Fisher's exact test of a 2x2 table and Holm's step-down adjustment. Pure: no I/O.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/compare.h"

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

bool pb_mwu_exact_applies(size_t na, size_t nb, bool ties)
{
	return !ties && na && nb && na < PB_MWU_EXACT_MAX && nb < PB_MWU_EXACT_MAX;
}

/*
 * P(U <= q) for q = 0..m*n under the null hypothesis, U the Mann-Whitney statistic of samples of
 * m and n values without ties. The number of arrangements with U = u is the coefficient of x^u
 * in the Gaussian binomial [m+n choose m] = prod_{i=1..m} (1 - x^(n+i)) / (1 - x^i), built one
 * factor at a time: multiplying by (1 - x^k) and dividing by (1 - x^i) each use only lower
 * coefficients, so the small ones (the tails) stay exact integers. malloc'd, NULL on ENOMEM.
 */
static double *mwu_cdf(size_t m, size_t n)
{
	size_t mn = m * n, size = mn + m + 1;
	double *c = calloc(size, sizeof(*c));
	if (!c)
		return NULL;
	c[0] = 1;
	size_t deg = 0;
	for (size_t i = 1; i <= m; i++) {
		size_t k = n + i, top = deg + k;
		for (size_t j = top; j >= k; j--)
			c[j] -= c[j - k];
		deg = top - i; /* the quotient's degree: what lies above it divides out */
		for (size_t j = i; j <= deg; j++)
			c[j] += c[j - i];
		for (size_t j = deg + 1; j <= top; j++)
			c[j] = 0;
	}
	double total = 0;
	for (size_t u = 0; u <= mn; u++)
		total += c[u];
	double cum = 0;
	for (size_t u = 0; u <= mn; u++) {
		cum += c[u];
		c[u] = cum / total;
	}
	c[mn] = 1;
	return c;
}

struct ranked {
	uint64_t v;
	int from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	return a->v < b->v ? -1 : a->v > b->v;
}

/* Rank sum of a in the pooled sample (mid-ranks for ties) and the tie term sum(t^3 - t). */
static int rank_sum(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, double *sum_a,
		    double *ties)
{
	size_t n = na + nb;
	struct ranked *r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < na; i++)
		r[i] = (struct ranked){a[i], 1};
	for (size_t i = 0; i < nb; i++)
		r[na + i] = (struct ranked){b[i], 0};
	qsort(r, n, sizeof(*r), cmp_ranked);
	*sum_a = 0;
	*ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && r[j].v == r[i].v)
			j++;
		double t = (double)(j - i), mid = (double)(i + 1 + j) / 2.0; /* ranks i+1..j */
		for (size_t k = i; k < j; k++)
			if (r[k].from_a)
				*sum_a += mid;
		*ties += t * t * t - t;
		i = j;
	}
	free(r);
	return 0;
}

/* Variance of U under the null hypothesis, tie-corrected. */
static double mwu_var(double n1, double n2, double ties)
{
	double nn = n1 + n2;
	return n1 * n2 / 12.0 * ((nn + 1) - ties / (nn * (nn - 1)));
}

int pb_mann_whitney(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, struct pb_mwu *ret)
{
	*ret = (struct pb_mwu){.p = 1};
	if (!na || !nb)
		return 0;
	double sum_a, ties;
	int r = rank_sum(a, na, b, nb, &sum_a, &ties);
	if (r < 0)
		return r;
	double n1 = (double)na, n2 = (double)nb;
	ret->u = sum_a - n1 * (n1 + 1) / 2.0;
	double mu = n1 * n2 / 2.0, var = mwu_var(n1, n2, ties);
	if (var <= 0)
		return 0; /* every value tied: no evidence either way */
	double d = ret->u - mu;
	double cc = d > 0 ? -0.5 : d < 0 ? 0.5 : 0; /* continuity correction towards the mean */
	ret->z = (d + cc) / sqrt(var);
	ret->valid = true;
	if (pb_mwu_exact_applies(na, nb, ties > 0)) {
		double *cdf = mwu_cdf(na, nb);
		if (!cdf)
			return -ENOMEM;
		/* U is an integer without ties; the distribution is symmetric about mn/2 */
		size_t u = (size_t)llround(ret->u), mn = na * nb, q = u < mn - u ? u : mn - u;
		ret->p = 2 * cdf[q];
		ret->exact = true;
		free(cdf);
	} else {
		ret->p = erfc(fabs(ret->z) / sqrt(2.0));
	}
	if (ret->p > 1)
		ret->p = 1;
	return 0;
}

/* ---- Hodges-Lehmann ----------------------------------------------------------------------- */

/* How many pairs (i, j) have b[j] - a[i] <= v; a and b sorted. */
static uint64_t pairs_at_most(const int64_t *a, size_t na, const int64_t *b, size_t nb, int64_t v)
{
	uint64_t count = 0;
	size_t i = 0; /* first a[i] >= b[j] - v: moves right as b[j] grows */
	for (size_t j = 0; j < nb; j++) {
		while (i < na && a[i] < b[j] - v)
			i++;
		count += na - i;
	}
	return count;
}

/* The k-th smallest (1-based) of the m*n differences b[j] - a[i], without listing them: the
 * smallest integer v with at least k differences <= v, by bisection over the values. */
static int64_t kth_difference(const int64_t *a, size_t na, const int64_t *b, size_t nb, uint64_t k)
{
	int64_t lo = b[0] - a[na - 1], hi = b[nb - 1] - a[0];
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (pairs_at_most(a, na, b, nb, mid) >= k)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* z with P(Z > z) = q for a standard normal Z (0 < q < 0.5), by bisection on erfc. */
static double normal_upper_quantile(double q)
{
	double lo = 0, hi = 40;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (0.5 * erfc(mid / sqrt(2.0)) > q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static int64_t *sorted_signed(const uint64_t *v, size_t n)
{
	int64_t *s = malloc(n * sizeof(*s));
	if (!s)
		return NULL;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u64); /* nanoseconds stay below 2^63: the order is the same */
	return s;
}

int pb_hodges_lehmann(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, double level,
		      struct pb_hl *ret)
{
	*ret = (struct pb_hl){.level = level};
	if (!na || !nb)
		return 0;
	int64_t *sa = sorted_signed(a, na), *sb = sorted_signed(b, nb);
	double sum_a, ties;
	int r = sa && sb ? rank_sum(a, na, b, nb, &sum_a, &ties) : -ENOMEM;
	if (r < 0)
		goto out;
	uint64_t mn = (uint64_t)na * nb;
	/* the median of the m*n differences: the middle one, or the mean of the middle two */
	int64_t lo_mid = kth_difference(sa, na, sb, nb, (mn + 1) / 2),
		hi_mid = mn % 2 ? lo_mid : kth_difference(sa, na, sb, nb, mn / 2 + 1);
	ret->shift = ((double)lo_mid + (double)hi_mid) / 2.0;
	ret->valid = true;
	/* The interval [d(k), d(mn + 1 - k)] of the sorted differences covers the true shift with
	 * probability 1 - 2 P(U <= k - 1): k is the smallest with P(U <= k) >= (1 - level) / 2, as
	 * R's wilcox.test(conf.int = TRUE) takes it; k = 0 means no such interval exists. */
	double half = (1 - level) / 2;
	uint64_t k = 0;
	if (pb_mwu_exact_applies(na, nb, ties > 0)) {
		double *cdf = mwu_cdf(na, nb);
		if (!cdf) {
			r = -ENOMEM;
			goto out;
		}
		while (k < mn && cdf[k] < half)
			k++;
		free(cdf);
		ret->exact = true;
	} else {
		/* Hollander & Wolfe's large-sample C = mn/2 - z sqrt(var U), var tie-corrected,
		 * rounded down (the wider interval) */
		double var = mwu_var((double)na, (double)nb, ties),
		       c = (double)mn / 2 - normal_upper_quantile(half) * sqrt(var);
		k = c >= 1 ? (uint64_t)floor(c) : 0;
	}
	if (k >= 1 && k <= mn + 1 - k) {
		ret->lo = (double)kth_difference(sa, na, sb, nb, k);
		ret->hi = (double)kth_difference(sa, na, sb, nb, mn + 1 - k);
		ret->ci_valid = true;
	}
out:
	free(sa);
	free(sb);
	return r;
}

/* ---- Fisher's exact test ------------------------------------------------------------------- */

static double lchoose(double n, double k)
{
	return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

double pb_fisher_exact_p(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	/* Margins fixed: x = a is hypergeometric with m = a + c, n = b + d, k = a + b draws. */
	double m = (double)(a + c), n = (double)(b + d), k = (double)(a + b);
	double lo = k - n > 0 ? k - n : 0, hi = k < m ? k : m;
	if (hi <= lo)
		return 1;
	double logd_obs = lchoose(m, (double)a) + lchoose(n, k - (double)a), max = -INFINITY;
	for (double x = lo; x <= hi; x++) {
		double l = lchoose(m, x) + lchoose(n, k - x);
		if (l > max)
			max = l;
	}
	/* as R's fisher.test: tables no more probable than the observed one, with a relative
	 * tolerance of 1e-7 so that equally probable tables are not lost to rounding */
	double obs = exp(logd_obs - max) * (1 + 1e-7), total = 0, p = 0;
	for (double x = lo; x <= hi; x++) {
		double dx = exp(lchoose(m, x) + lchoose(n, k - x) - max);
		total += dx;
		if (dx <= obs)
			p += dx;
	}
	p /= total;
	return p > 1 ? 1 : p;
}

double pb_fisher_clustered_p(uint64_t a, uint64_t b, uint64_t c, uint64_t d, double deff)
{
	double p = pb_fisher_exact_p(a, b, c, d);
	if (!(deff > 1))
		return p;
	double q = pb_fisher_exact_p(
	    (uint64_t)llround((double)a / deff), (uint64_t)llround((double)b / deff),
	    (uint64_t)llround((double)c / deff), (uint64_t)llround((double)d / deff));
	return q > p ? q : p;
}

/* MS_b = SS_b / (k - 1), MS_w = SS_w / (N - k), n0 = (N - sum n^2 / N) / (k - 1); the variance
 * between groups max(0, (MS_b - MS_w) / n0), within MS_w. */
double pb_anova_between_share(const size_t *n, const double *mean, const double *ss_within,
			      size_t k, double *sd_between, double *sd_within)
{
	double N = 0, grand = 0, ss_w = 0, ss_b = 0, sum_n2 = 0;
	size_t groups = 0;
	if (sd_between)
		*sd_between = NAN;
	if (sd_within)
		*sd_within = NAN;
	for (size_t i = 0; i < k; i++)
		N += (double)n[i];
	if (!(N > 0))
		return NAN;
	for (size_t i = 0; i < k; i++)
		grand += (double)n[i] * mean[i] / N;
	for (size_t i = 0; i < k; i++) {
		if (!n[i])
			continue;
		ss_w += ss_within[i];
		ss_b += (double)n[i] * (mean[i] - grand) * (mean[i] - grand);
		sum_n2 += (double)n[i] * (double)n[i];
		groups++;
	}
	double g = (double)groups;
	if (N - g < 1)
		return NAN;
	double ms_w = ss_w / (N - g);
	if (sd_within)
		*sd_within = sqrt(ms_w);
	if (groups < 2)
		return NAN;
	double ms_b = ss_b / (g - 1), n0 = (N - sum_n2 / N) / (g - 1),
	       var_b = ms_b > ms_w ? (ms_b - ms_w) / n0 : 0;
	if (sd_between)
		*sd_between = sqrt(var_b);
	return var_b + ms_w > 0 ? var_b / (var_b + ms_w) : NAN;
}

/* ---- Holm -------------------------------------------------------------------------------- */

static int cmp_by_p(const void *x, const void *y, void *p)
{
	double a = ((const double *)p)[*(const size_t *)x],
	       b = ((const double *)p)[*(const size_t *)y];
	return a < b ? -1 : a > b;
}

int pb_holm_adjust(const double *p, size_t n, double *adj)
{
	if (!n)
		return 0;
	size_t *order = malloc(n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_by_p, (void *)p);
	/* the i-th smallest (0-based) times n - i, never below the one before it, at most 1 */
	double run = 0;
	for (size_t i = 0; i < n; i++) {
		double v = (double)(n - i) * p[order[i]];
		if (v > 1)
			v = 1;
		if (v > run)
			run = v;
		adj[order[i]] = run;
	}
	free(order);
	return 0;
}

void pb_mwu_clustered(struct pb_mwu *m, struct pb_hl *hl, double deff)
{
	if (!(deff > 1))
		return;
	double k = sqrt(deff);
	if (m->valid) {
		double p = erfc(fabs(m->z / k) / sqrt(2.0));
		m->z /= k;
		if (p > m->p)
			m->p = p > 1 ? 1 : p;
		m->exact = false;
	}
	if (hl && hl->ci_valid) {
		hl->lo = hl->shift - (hl->shift - hl->lo) * k;
		hl->hi = hl->shift + (hl->hi - hl->shift) * k;
		hl->exact = false;
	}
}
