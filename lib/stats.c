/* Student's t distribution: its two-sided tail and quantile, for the
 * readers that test a statistic (trends, key drivers). */
#include "cxm_internal.h"

#include <math.h>

/* log Γ(x) for x > 0 without the global sign lgamma() writes (signgam:
 * a data race between threads asking for intervals at once). */
static double lgam(double x)
{
	int sign;
	return lgamma_r(x, &sign);
}

/* ---- Student's t -------------------------------------------------------------- */

/* The continued fraction of the regularized incomplete beta function,
 * evaluated by the modified Lentz method; converges fast for
 * x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1);
	d = 1 / (fabs(d) < tiny ? tiny : d);
	double f = d;
	for (int m = 1; m <= 500; m++) {
		/* the even step, then the odd one */
		double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		f *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		const double step = d * c;
		f *= step;
		if (fabs(step - 1) < 1e-15)
			break;
	}
	return f;
}

/* I_x(a, b), the regularized incomplete beta function, x in [0, 1]. */
static double beta_reg(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	const double front = exp(lgam(a + b) - lgam(a) - lgam(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_fraction(a, b, x) / a;
	return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

/* P(|T| >= t) for Student's t with df degrees of freedom. */
double cxm__t_two_sided(double t, double df)
{
	return beta_reg(df / 2, 0.5, df / (df + t * t));
}

/* The t with P(|T| >= t) = tail: Newton's method on the decreasing tail
 * (its derivative is minus twice the density), kept inside a bracket
 * that halves whenever a step would leave it; 6 to 10 evaluations of the
 * tail where bisection took a hundred. */
double cxm__t_quantile(double tail, double df)
{
	double lo = 0, hi = 1;
	while (cxm__t_two_sided(hi, df) > tail && hi < 1e12) {
		lo = hi;
		hi *= 2;
	}
	/* the density's constant, in logs */
	const double lc = lgam((df + 1) / 2) - lgam(df / 2) - 0.5 * log(df * 3.141592653589793);
	double t = (lo + hi) / 2;
	for (int i = 0; i < 100; i++) {
		const double f = cxm__t_two_sided(t, df) - tail;
		if (f > 0)
			lo = t;
		else
			hi = t;
		const double dens = exp(lc - (df + 1) / 2 * log1p(t * t / df));
		double next = dens > 0 ? t + f / (2 * dens) : (lo + hi) / 2;
		if (!(next > lo && next < hi))
			next = (lo + hi) / 2;
		if (fabs(next - t) <= 1e-13 * t || hi - lo <= 1e-13 * hi)
			return next;
		t = next;
	}
	return t;
}
