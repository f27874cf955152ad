r"""Classifier guidance and classifier-free guidance, in the posts' notation (post 9257).

**Convention (Su's, as in** :mod:`closedform.derive.schedules` **).** Every function here
takes Su's coefficients:

.. math::

    x_t = \alpha_t x_{t-1} + \beta_t \varepsilon,\quad \alpha_t^2 + \beta_t^2 = 1,\qquad
    x_t = \bar\alpha_t x_0 + \bar\beta_t \varepsilon,\quad \bar\alpha_t^2 + \bar\beta_t^2 = 1,

so Su's :math:`\alpha_t, \beta_t, \bar\alpha_t, \bar\beta_t` are the square roots of Ho et al.'s
:math:`\alpha_t, \beta_t, \bar\alpha_t, 1 - \bar\alpha_t`.  The reverse step of DDPM is
:math:`\mathcal N(\mu(x_t), \sigma_t^2)` with

.. math::

    \mu(x_t) = \frac{1}{\alpha_t}\Bigl(x_t - \frac{\beta_t^2}{\bar\beta_t}\,\varepsilon_\theta(x_t, t)\Bigr),
    \qquad \nabla_x \log p_t(x) = -\frac{\varepsilon_\theta(x, t)}{\bar\beta_t}.

Classifier guidance shifts the mean by :math:`\sigma_t^2\gamma\nabla\log p(y|x_t)` (the
"mean-space" rule of the post); the continuous form shifts ε by
:math:`-\bar\beta_t\gamma\nabla\log p_t(y|x)` ("ε-space"), which moves the mean by
:math:`\beta_t^2\gamma\nabla\log p/\alpha_t`: the two differ by the factor :math:`1/\alpha_t`
when :math:`\sigma_t = \beta_t`.  Classifier-free guidance is
:math:`\tilde\varepsilon = (1+w)\varepsilon_\theta(x_t, y) - w\,\varepsilon_\theta(x_t)`, with
:math:`w = \gamma - 1` and the libraries' guidance scale :math:`s = 1 + w = \gamma`.

All functions return SymPy expressions (never floats).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from closedform.derive.expr_parser import as_expr

__all__ = [
    "cfg_epsilon",
    "cfg_epsilon_from_scale",
    "cfg_mean",
    "conditional_mixture",
    "conditional_epsilon",
    "ddpm_posterior_mean",
    "ddpm_posterior_sigma",
    "diffused_component",
    "epsilon_guidance_mean_shift",
    "gaussian_density",
    "gaussian_tilt_moments",
    "guidance_scale_from_w",
    "guided_mean",
    "log_normaliser_gradient_logistic",
    "log_sigmoid",
    "mixture_cdf",
    "normal_cdf",
    "quadratic_tilt_moments",
    "reverse_mean",
    "score_from_epsilon",
    "sharpened_classifier",
    "sharpened_gradients_logistic",
    "sharpened_logistic",
    "similarity_guided_mean",
    "tilt_error_constant",
    "tilt_mean_series",
    "toy_conditional_cdf",
    "w_from_guidance_scale",
]


def _s(*args):
    return [as_expr(a) for a in args]


def gaussian_density(x: sp.Expr, mu: sp.Expr, sigma: sp.Expr) -> sp.Expr:
    r"""The density :math:`\mathcal N(x; \mu, \sigma^2)`.

    .. math::

        \mathcal N(x;\mu,\sigma^2) = \frac{1}{\sqrt{2\pi}\,\sigma} e^{-(x-\mu)^2/2\sigma^2}

    >>> gaussian_density(0, 0, 1)
    sqrt(2)/(2*sqrt(pi))
    """
    x, mu, sigma = _s(x, mu, sigma)
    return sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sp.sqrt(2 * sp.pi) * sigma)


def normal_cdf(z: sp.Expr) -> sp.Expr:
    r"""The standard normal CDF :math:`\Phi(z) = \tfrac12\operatorname{erfc}(-z/\sqrt2)`.

    .. math::

        \Phi(z) = \tfrac12 \operatorname{erfc}\bigl(-z/\sqrt 2\bigr)

    >>> normal_cdf(0)
    1/2
    """
    return sp.erfc(-as_expr(z) / sp.sqrt(2)) / 2


def reverse_mean(x_t: sp.Expr, eps: sp.Expr, alpha_t: sp.Expr, beta_bar_t: sp.Expr) -> sp.Expr:
    r"""DDPM's reverse mean from the noise prediction (Su's convention).

    .. math::

        \mu(x_t) = \frac{1}{\alpha_t}\Bigl(x_t - \frac{\beta_t^2}{\bar\beta_t}\varepsilon\Bigr),
        \qquad \beta_t^2 = 1 - \alpha_t^2 .

    >>> x, e, a, bb = sp.symbols("x epsilon alpha betabar", positive=True)
    >>> reverse_mean(x, e, a, bb)
    (x - epsilon*(1 - alpha**2)/betabar)/alpha
    """
    x_t, eps, alpha_t, beta_bar_t = _s(x_t, eps, alpha_t, beta_bar_t)
    return (x_t - (1 - alpha_t**2) / beta_bar_t * eps) / alpha_t


def ddpm_posterior_mean(x_t, x0, alpha_t, beta_bar_prev, beta_bar_t) -> sp.Expr:
    r"""Mean of :math:`p(x_{t-1}|x_t, x_0)` in Su's convention (the forward posterior).

    .. math::

        \frac{\bar\alpha_{t-1}\beta_t^2}{\bar\beta_t^2}\,x_0
        + \frac{\alpha_t\bar\beta_{t-1}^2}{\bar\beta_t^2}\,x_t,
        \qquad \bar\alpha_{t-1} = \sqrt{1 - \bar\beta_{t-1}^2}.

    >>> ddpm_posterior_mean(1, 0, sp.Rational(3, 5), 0, sp.Rational(4, 5))
    0
    """
    x_t, x0, alpha_t, bbp, bbt = _s(x_t, x0, alpha_t, beta_bar_prev, beta_bar_t)
    abp = sp.sqrt(1 - bbp**2)
    return abp * (1 - alpha_t**2) / bbt**2 * x0 + alpha_t * bbp**2 / bbt**2 * x_t


def ddpm_posterior_sigma(alpha_t, beta_bar_prev, beta_bar_t) -> sp.Expr:
    r"""DDPM's posterior standard deviation :math:`\sigma_t = \bar\beta_{t-1}\beta_t/\bar\beta_t` (Su).

    .. math::

        \sigma_t = \frac{\bar\beta_{t-1}\,\beta_t}{\bar\beta_t},\qquad \beta_t = \sqrt{1-\alpha_t^2}

    Ho et al.'s :math:`\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t` is its square.

    >>> ddpm_posterior_sigma(sp.Rational(3, 5), 0, sp.Rational(4, 5))
    0
    """
    alpha_t, bbp, bbt = _s(alpha_t, beta_bar_prev, beta_bar_t)
    return bbp * sp.sqrt(1 - alpha_t**2) / bbt


def score_from_epsilon(eps: sp.Expr, beta_bar_t: sp.Expr) -> sp.Expr:
    r"""The score implied by a noise prediction: :math:`\nabla\log p_t = -\varepsilon/\bar\beta_t`.

    .. math::

        \nabla_x \log p_t(x) = -\frac{\varepsilon_\theta(x, t)}{\bar\beta_t}

    >>> score_from_epsilon(2, sp.Rational(1, 2))
    -4
    """
    eps, beta_bar_t = _s(eps, beta_bar_t)
    return -eps / beta_bar_t


def guided_mean(mu: sp.Expr, sigma: sp.Expr, grad_log_likelihood: sp.Expr, gamma: sp.Expr = 1) -> sp.Expr:
    r"""The classifier-guided mean of the post, with gradient scale γ (mean-space rule).

    .. math::

        \tilde\mu(x_t) = \mu(x_t) + \sigma_t^2\,\gamma\,\nabla_{x_t}\log p(y|x_t)

    >>> m, s, g, c = sp.symbols("mu sigma g gamma")
    >>> guided_mean(m, s, g, c)
    g*gamma*sigma**2 + mu
    """
    mu, sigma, g, gamma = _s(mu, sigma, grad_log_likelihood, gamma)
    return mu + sigma**2 * gamma * g


def similarity_guided_mean(mu: sp.Expr, sigma: sp.Expr, gamma: sp.Expr, grad_similarity: sp.Expr) -> sp.Expr:
    r"""The similarity-guided mean: the same shift with :math:`\gamma\nabla\mathrm{sim}(x_t, y)`.

    .. math::

        \tilde\mu(x_t) = \mu(x_t) + \sigma_t^2\,\gamma\,\nabla_{x_t}\mathrm{sim}(x_t, y)

    >>> similarity_guided_mean(0, 1, 2, 3)
    6
    """
    return guided_mean(mu, sigma, grad_similarity, gamma)


def gaussian_tilt_moments(mu: sp.Expr, sigma: sp.Expr, g: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of :math:`\mathcal N(\mu,\sigma^2)` tilted by :math:`e^{g x}` (normalised).

    Derived, not typed in: the normaliser :math:`Z(g) = \int \mathcal N e^{gx}\,dx` is
    integrated by SymPy, and the cumulants are :math:`(\log Z)'` and :math:`(\log Z)''`.

    .. math::

        \frac{\mathcal N(x;\mu,\sigma^2)\,e^{g x}}{Z(g)} = \mathcal N(x;\ \mu + \sigma^2 g,\ \sigma^2)

    >>> gaussian_tilt_moments(sp.Symbol("mu"), sp.Symbol("sigma", positive=True), sp.Symbol("g"))
    (g*sigma**2 + mu, sigma**2)
    """
    x = sp.Symbol("x", real=True)
    gs = sp.Symbol("g_", real=True)
    ms = sp.Symbol("mu_", real=True)
    ss = sp.Symbol("sigma_", positive=True)
    z = sp.integrate(gaussian_density(x, ms, ss) * sp.exp(gs * x), (x, -sp.oo, sp.oo), conds="none")
    log_z = sp.expand_log(sp.log(z), force=True)
    mean = sp.simplify(sp.diff(log_z, gs))
    var = sp.simplify(sp.diff(log_z, gs, 2))
    subs = {gs: as_expr(g), ms: as_expr(mu), ss: as_expr(sigma)}
    return sp.expand(mean.subs(subs)), sp.expand(var.subs(subs))


def quadratic_tilt_moments(mu, sigma, g, c) -> tuple[sp.Expr, sp.Expr]:
    r"""Mean and variance of :math:`\mathcal N(\mu,\sigma^2)` tilted by :math:`e^{h}`, h quadratic.

    With :math:`h(x) = g(x-\mu) + \tfrac c2 (x-\mu)^2` and :math:`\sigma^2 c < 1` the tilt is
    again Gaussian (completing the square in the precision :math:`1/\sigma^2 - c`):

    .. math::

        \mathbb E[x] = \mu + \frac{\sigma^2 g}{1 - \sigma^2 c},\qquad
        \operatorname{Var}[x] = \frac{\sigma^2}{1 - \sigma^2 c}.

    The guided mean :math:`\mu + \sigma^2 h'(\mu)` is exact only when :math:`c = 0`.

    >>> quadratic_tilt_moments(0, 1, 1, sp.Rational(1, 2))
    (2, 2)
    """
    mu, sigma, g, c = _s(mu, sigma, g, c)
    precision = 1 / sigma**2 - c
    return mu + g / precision, 1 / precision


def tilt_mean_series(order: int = 4) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol]:
    r"""The tilted mean :math:`\mathbb E[x] - \mu` as a series in σ, for a generic smooth h.

    Write :math:`x = \mu + \sigma z`, :math:`z \sim \mathcal N(0, 1)`, and
    :math:`h(\mu + \sigma z) - h(\mu) = \sum_k h_k \sigma^k z^k / k!`.  Then

    .. math::

        \mathbb E_{\text{tilt}}[x] - \mu
        = \sigma\,\frac{\mathbb E[z\,e^{h(\mu+\sigma z) - h(\mu)}]}{\mathbb E[e^{h(\mu+\sigma z)-h(\mu)}]}
        = \sigma^2 h_1 + \sigma^4\bigl(h_1 h_2 + \tfrac12 h_3\bigr) + O(\sigma^6),

    obtained by expanding the exponential in σ and replacing :math:`z^k` by the Gaussian
    moments :math:`(k-1)!!` (odd k: 0).  Returns ``(series, (h1, ..., h_order), sigma)``.

    >>> series, h, s = tilt_mean_series(4)
    >>> series
    h1*sigma**2 + sigma**4*(h1*h2 + h3/2)
    """
    sigma = sp.Symbol("sigma", positive=True)
    z = sp.Symbol("z", real=True)
    h = sp.symbols(f"h1:{order + 1}", real=True)
    exponent = sum(h[k - 1] * sigma**k * z**k / sp.factorial(k) for k in range(1, order + 1))
    # The mean needs the ratio to order sigma^(order-1); one extra order is harmless.
    expo = sp.series(sp.exp(exponent), sigma, 0, order + 1).removeO()

    def gauss_expect(poly: sp.Expr) -> sp.Expr:
        poly = sp.Poly(sp.expand(poly), z)
        return sum(coeff * sp.factorial2(k - 1) for (k,), coeff in poly.terms() if k % 2 == 0)

    num = gauss_expect(z * expo)
    den = gauss_expect(expo)
    ratio = sp.series(sigma * num / den, sigma, 0, order + 1).removeO()
    return sp.collect(sp.expand(ratio), sigma), h, sigma


def log_sigmoid(z: sp.Expr) -> sp.Expr:
    r"""The log-likelihood of a logistic classifier, :math:`\log\sigma(z) = -\log(1 + e^{-z})`.

    .. math::

        \log\sigma(z) = -\log\bigl(1 + e^{-z}\bigr)

    >>> log_sigmoid(0)
    -log(2)
    """
    return -sp.log(1 + sp.exp(-as_expr(z)))


def tilt_error_constant(h: sp.Expr, x: sp.Symbol, at: sp.Expr) -> sp.Expr:
    r"""The σ⁴ coefficient of the guided-mean error for log-likelihood h, at the prior mean.

    .. math::

        \mathbb E_{\text{tilt}}[x] - \bigl(\mu + \sigma^2 h'(\mu)\bigr)
        = \sigma^4\Bigl(h'(\mu)h''(\mu) + \tfrac12 h'''(\mu)\Bigr) + O(\sigma^6)

    (the coefficient is read off :func:`tilt_mean_series`).

    >>> x = sp.Symbol("x")
    >>> tilt_error_constant(x**3, x, 1)
    21
    """
    series, hs, sigma = tilt_mean_series(4)
    coeff = series.coeff(sigma, 4)
    derivs = {hs[k - 1]: sp.diff(h, x, k).subs(x, at) for k in range(1, len(hs) + 1)}
    return sp.simplify(coeff.subs(derivs))


def sharpened_classifier(probs: Sequence[sp.Expr], gamma: sp.Expr) -> list[sp.Expr]:
    r"""The sharpened classifier :math:`p^\gamma(y|x)/Z(x)`, :math:`Z = \sum_y p^\gamma(y|x)`.

    .. math::

        \tilde p(y|x) = \frac{p(y|x)^\gamma}{\sum_{y'} p(y'|x)^\gamma}

    >>> sharpened_classifier([sp.Rational(1, 3), sp.Rational(2, 3)], 2)
    [1/5, 4/5]
    """
    gamma = as_expr(gamma)
    powered = [as_expr(p) ** gamma for p in probs]
    z = sp.Add(*powered)
    return [p / z for p in powered]


def sharpened_logistic(a: sp.Expr, x: sp.Expr, gamma: sp.Expr) -> sp.Expr:
    r"""The sharpened logistic classifier, again logistic: :math:`\sigma(\gamma a x)`.

    For :math:`p(y=1|x) = \sigma(ax)`, :math:`p(y=0|x) = \sigma(-ax)` and
    :math:`\sigma(u)/\sigma(-u) = e^{u}`, so

    .. math::

        \frac{\sigma(ax)^\gamma}{\sigma(ax)^\gamma + \sigma(-ax)^\gamma}
        = \frac{1}{1 + e^{-\gamma a x}} = \sigma(\gamma a x).

    >>> sharpened_logistic(1, 2, 3)
    1/(exp(-6) + 1)
    """
    a, x, gamma = _s(a, x, gamma)
    return 1 / (1 + sp.exp(-gamma * a * x))


def log_normaliser_gradient_logistic(a: sp.Expr, x: sp.Expr, gamma: sp.Expr) -> sp.Expr:
    r"""The term the original paper drops: :math:`\nabla_x\log Z(x)` for a logistic classifier.

    :math:`\nabla\log\tilde p(1|x) = \gamma\nabla\log p(1|x) - \nabla\log Z(x)`, and with
    :math:`\tilde p = \sigma(\gamma a x)`:

    .. math::

        \nabla_x \log Z(x) = \gamma a\bigl(1 - \sigma(ax)\bigr) - \gamma a\bigl(1-\sigma(\gamma a x)\bigr)
        = \gamma a\bigl(\sigma(\gamma a x) - \sigma(a x)\bigr),

    zero for every x only at γ = 1.

    >>> log_normaliser_gradient_logistic(1, 0, 3)
    0
    """
    a, x, gamma = _s(a, x, gamma)
    sig = lambda u: 1 / (1 + sp.exp(-u))
    return gamma * a * (sig(gamma * a * x) - sig(a * x))


def sharpened_gradients_logistic(a: sp.Expr, x: sp.Expr, gamma: sp.Expr) -> dict[str, sp.Expr]:
    r"""The three gradients of the :math:`Z(x_t)` criticism at x, by differentiation:
    :math:`\nabla\log\tilde p` of the sharpened classifier, :math:`\gamma\nabla\log p`, and
    :math:`\nabla\log Z` (their difference, :func:`log_normaliser_gradient_logistic`).

    >>> g = sharpened_gradients_logistic(1, 0, 3)
    >>> g["grad_log_sharpened"], g["gamma_grad_log_p"], g["grad_log_Z"]
    (3/2, 3/2, 0)
    """
    a, x, gamma = _s(a, x, gamma)
    xs = sp.Symbol("x", real=True)
    return {
        "grad_log_sharpened": sp.diff(sp.log(sharpened_logistic(a, xs, gamma)), xs).subs(xs, x),
        "gamma_grad_log_p": gamma * sp.diff(log_sigmoid(a * xs), xs).subs(xs, x),
        "grad_log_Z": log_normaliser_gradient_logistic(a, x, gamma),
    }


def conditional_epsilon(eps: sp.Expr, beta_bar_t: sp.Expr, grad_log_likelihood: sp.Expr, gamma=1) -> sp.Expr:
    r"""The continuous-time (SDE/ODE) rule: replace ε by :math:`\varepsilon - \bar\beta_t\gamma\nabla\log p_t(y|x)`.

    Bayes: :math:`\nabla\log p_t(x|y) = \nabla\log p_t(x) + \nabla\log p_t(y|x)
    = -[\varepsilon - \bar\beta_t \nabla\log p_t(y|x)]/\bar\beta_t`.

    .. math::

        \tilde\varepsilon(x_t, y) = \varepsilon_\theta(x_t, t) - \bar\beta_t\,\gamma\,\nabla_x\log p_t(y|x_t)

    >>> conditional_epsilon(1, sp.Rational(1, 2), 4)
    -1
    """
    eps, bb, g, gamma = _s(eps, beta_bar_t, grad_log_likelihood, gamma)
    return eps - bb * gamma * g


def epsilon_guidance_mean_shift(alpha_t: sp.Expr, gamma: sp.Expr, grad_log_likelihood: sp.Expr) -> sp.Expr:
    r"""How far ε-space guidance moves DDPM's mean: :math:`\beta_t^2\gamma g/\alpha_t`.

    Substituting :func:`conditional_epsilon` in :func:`reverse_mean`:

    .. math::

        \mu\bigl(x_t;\ \varepsilon - \bar\beta_t\gamma g\bigr) - \mu(x_t;\ \varepsilon)
        = \frac{\beta_t^2}{\alpha_t}\,\gamma g ,

    whereas the mean-space rule adds :math:`\sigma_t^2\gamma g`; with :math:`\sigma_t = \beta_t`
    they differ by the factor :math:`1/\alpha_t`.

    >>> epsilon_guidance_mean_shift(sp.Rational(3, 5), 1, 1)
    16/15
    """
    alpha_t, gamma, g = _s(alpha_t, gamma, grad_log_likelihood)
    return (1 - alpha_t**2) * gamma * g / alpha_t


def cfg_epsilon(eps_cond: sp.Expr, eps_uncond: sp.Expr, w: sp.Expr) -> sp.Expr:
    r"""Classifier-free guidance in Ho & Salimans' form.

    .. math::

        \tilde\varepsilon_\theta(x_t, y, t) = (1 + w)\,\varepsilon_\theta(x_t, y, t) - w\,\varepsilon_\theta(x_t, t),
        \qquad w = \gamma - 1

    >>> cfg_epsilon(1, 0, 2)
    3
    """
    ec, eu, w = _s(eps_cond, eps_uncond, w)
    return (1 + w) * ec - w * eu


def cfg_epsilon_from_scale(eps_cond: sp.Expr, eps_uncond: sp.Expr, s: sp.Expr) -> sp.Expr:
    r"""Classifier-free guidance in the libraries' form (diffusers' ``guidance_scale`` s).

    .. math::

        \hat\varepsilon = \varepsilon_u + s\,(\varepsilon_c - \varepsilon_u),\qquad s = 1 + w = \gamma

    >>> cfg_epsilon_from_scale(1, 0, 3)
    3
    """
    ec, eu, s = _s(eps_cond, eps_uncond, s)
    return eu + s * (ec - eu)


def guidance_scale_from_w(w: sp.Expr) -> sp.Expr:
    r"""The libraries' guidance scale from Ho & Salimans' w: :math:`s = 1 + w` (= γ).

    .. math::

        s = 1 + w

    >>> guidance_scale_from_w(sp.Rational(13, 2))
    15/2
    """
    return 1 + as_expr(w)


def w_from_guidance_scale(s: sp.Expr) -> sp.Expr:
    r"""Ho & Salimans' w from a guidance scale: :math:`w = s - 1` (= γ - 1).

    .. math::

        w = s - 1

    >>> w_from_guidance_scale(sp.Rational(15, 2))
    13/2
    """
    return as_expr(s) - 1


def cfg_mean(mu_cond: sp.Expr, mu_uncond: sp.Expr, gamma: sp.Expr) -> sp.Expr:
    r"""The post's classifier-free mean: :math:`\gamma\,\mu(x_t, y) - (\gamma - 1)\,\mu(x_t)`.

    With :math:`\mu(x_t, y) = \mu + \sigma_t^2\nabla\log p(y|x_t)` this equals the guided
    mean :math:`\mu + \sigma_t^2\gamma\nabla\log p(y|x_t)`.

    .. math::

        \tilde\mu = \gamma\,\mu(x_t, y) - (\gamma - 1)\,\mu(x_t)

    >>> cfg_mean(2, 1, 3)
    4
    """
    mc, mu, gamma = _s(mu_cond, mu_uncond, gamma)
    return gamma * mc - (gamma - 1) * mu


def diffused_component(mean: sp.Expr, std: sp.Expr, alpha_bar_t: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""A Gaussian data component :math:`\mathcal N(m, s^2)` after diffusing to time t (Su).

    .. math::

        x_t = \bar\alpha_t x_0 + \bar\beta_t\varepsilon \sim
        \mathcal N\bigl(\bar\alpha_t m,\ \bar\alpha_t^2 s^2 + \bar\beta_t^2\bigr)

    Returns the mean and the standard deviation.

    >>> diffused_component(2, 1, sp.Rational(3, 5))
    (6/5, 1)
    """
    m, s, ab = _s(mean, std, alpha_bar_t)
    return ab * m, sp.sqrt(ab**2 * s**2 + 1 - ab**2)


def mixture_cdf(
    x: Sequence[sp.Expr], weights: Sequence[sp.Expr], means: Sequence[Sequence[sp.Expr]], stds: Sequence[sp.Expr]
) -> sp.Expr:
    r"""The joint CDF of an isotropic Gaussian mixture at the point x (any dimension).

    .. math::

        F(x) = \sum_k \pi_k \prod_{d} \Phi\Bigl(\frac{x_d - m_{k,d}}{s_k}\Bigr)

    >>> mixture_cdf([0], [sp.Rational(1, 2), sp.Rational(1, 2)], [[-1], [1]], [1, 1])
    1/2
    """
    total = sp.Integer(0)
    for w, m, s in zip(weights, means, stds):
        term = as_expr(w)
        for xd, md in zip(x, m):
            term *= normal_cdf((as_expr(xd) - as_expr(md)) / as_expr(s))
        total += term
    return sp.simplify(total) if all(as_expr(v).is_Rational for v in x) else total


# ----------------------------------------------------------------------------
# The Gaussian-mixture toys of the guided sampler's checks: the one table
# ----------------------------------------------------------------------------


def _toy(weights: str, means: str, stds: str, labels: str, points: str) -> dict[str, list]:
    """One toy from space-separated rationals; a mean or a point is comma-separated coordinates."""
    return {
        "weights": [sp.Rational(v) for v in weights.split()],
        "means": [[sp.Rational(c) for c in row.split(",")] for row in means.split()],
        "stds": [sp.Rational(v) for v in stds.split()],
        "labels": [int(v) for v in labels.split()],
        "points": [[sp.Rational(c) for c in row.split(",")] for row in points.split()],
    }


#: The toys, exact: mixing weights, component means (one row per component), isotropic
#: standard deviations, the class label of each component, and the points where the
#: registered checks compare CDFs.  ``two_class_1d`` is the two-class example used for
#: post 9257's gamma != 1 discussion (N(-1, 1/4) and N(1, 1/4), equal weights);
#: ``bimodal_1d`` has a bimodal class 0 (components 0 and 2); ``square_2d`` puts four
#: components on a square, classes by diagonal.  :mod:`closedform.numeric.mixtures`
#: builds its float64 mixtures from this table.
TOYS: dict[str, dict[str, list]] = {
    "two_class_1d": _toy("1/2 1/2", "-1 1", "1/2 1/2", "0 1", "-1/2 1/2 1 3/2"),
    "bimodal_1d": _toy("3/10 1/2 1/5", "-2 1/2 5/2", "1/2 2/5 3/5", "0 1 0", "-5/2 -2 -3/2 0 2 5/2 3"),
    "square_2d": _toy(
        "3/10 1/5 1/4 1/4",
        "-3/2,-1 3/2,6/5 -6/5,3/2 1,-3/2",
        "1/2 3/5 2/5 1/2",
        "0 0 1 1",
        "-1,-1/2 0,0 2,1 -1,2 1,-1 3,3",
    ),
}


def conditional_mixture(name: str, y: int) -> tuple[list, list, list]:
    """The class-y part of a toy, renormalised: (weights, means, stds), exact.

    >>> conditional_mixture("bimodal_1d", 0)[0]
    [3/5, 2/5]
    """
    toy = TOYS[name]
    keep = [k for k, lab in enumerate(toy["labels"]) if lab == int(y)]
    total = sp.Add(*[toy["weights"][k] for k in keep])
    return (
        [toy["weights"][k] / total for k in keep],
        [toy["means"][k] for k in keep],
        [toy["stds"][k] for k in keep],
    )


def toy_conditional_cdf(name: str, y: sp.Expr) -> sp.Matrix:
    r"""The CDF of :math:`p_0(x|y)` at the toy's points, exactly (erfc of rationals).

    A symbolic y gives a Piecewise over the classes.

    >>> toy_conditional_cdf("two_class_1d", 1)[2]
    1/2
    """
    toy = TOYS[name]
    if isinstance(y, sp.Basic) and not y.is_number:
        classes = sorted(set(toy["labels"]))
        mats = [toy_conditional_cdf(name, c) for c in classes]
        return sp.Matrix(
            [sp.Piecewise(*[(m[i], sp.Eq(y, c)) for c, m in zip(classes, mats)]) for i in range(len(toy["points"]))]
        )
    weights, means, stds = conditional_mixture(name, int(y))
    return sp.Matrix([mixture_cdf(pt, weights, means, stds) for pt in toy["points"]])
