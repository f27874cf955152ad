r"""Step-checked derivations for classifier and classifier-free guidance (post 9257).

Convention: Su's (:math:`\alpha_t^2 + \beta_t^2 = 1`, :math:`\bar\alpha_t^2 + \bar\beta_t^2 = 1`).
Identities are checked by SymPy.  The two probabilistic steps of the Bayes decomposition
(Bayes' rule for the reverse step, and "forward noise adds nothing for classification")
are statements about every Markov chain :math:`y \to x_0 \to x_{t-1} \to x_t`; they are
checked exactly, in rational arithmetic, on random finite chains, and say so.
"""

from __future__ import annotations

import random
from fractions import Fraction

import sympy as sp

from closedform.derive import guidance as d
from closedform.derive import schedules as ds
from closedform.proofs.core import Proof, Shown, Step, StepCheck, Verdict, check_sign

x, xp, xt, mu, g, c, s_ = sp.symbols("x x' x_t mu g c s", real=True)
sigma = sp.Symbol("sigma", positive=True)
gamma = sp.Symbol("gamma", nonnegative=True)
a = sp.Symbol("a", positive=True)
b = sp.Symbol("b", real=True)
eps, eps_c, eps_u, w = sp.symbols("epsilon epsilon_c epsilon_u w", real=True)
alpha_t = sp.Symbol("alpha_t", positive=True)
bb_prev = sp.Symbol("betabar_{t-1}", positive=True)
bb_t = sp.Symbol("betabar_t", positive=True)
f = sp.Function("f")
p = sp.Function("p")
q = sp.Function("q")

#: Random finite chains on which the Bayes steps are checked exactly.
CHAINS = 200


def _random_kernel(rng: random.Random, rows: int, cols: int) -> list[list[Fraction]]:
    out = []
    for _ in range(rows):
        w_ = [Fraction(rng.randint(1, 9)) for _ in range(cols)]
        tot = sum(w_)
        out.append([v / tot for v in w_])
    return out


def _check_bayes_on_chains() -> StepCheck:
    """p(x'|x_t, y) = p(x'|x_t) p(y|x') / p(y|x_t) on random chains y -> x0 -> x' -> x_t."""
    rng = random.Random(9257)
    for _ in range(CHAINS):
        ny, n0, n1, n2 = (rng.randint(2, 4) for _ in range(4))
        py = _random_kernel(rng, 1, ny)[0]
        k0, k1, k2 = _random_kernel(rng, ny, n0), _random_kernel(rng, n0, n1), _random_kernel(rng, n1, n2)
        joint = {}
        for yy in range(ny):
            for a0 in range(n0):
                for a1 in range(n1):
                    for a2 in range(n2):
                        joint[yy, a1, a2] = joint.get((yy, a1, a2), 0) + py[yy] * k0[yy][a0] * k1[a0][a1] * k2[a1][a2]
        m12 = {(a1, a2): sum(joint[yy, a1, a2] for yy in range(ny)) for a1 in range(n1) for a2 in range(n2)}
        m2 = {a2: sum(m12[a1, a2] for a1 in range(n1)) for a2 in range(n2)}
        m1 = {a1: sum(m12[a1, a2] for a2 in range(n2)) for a1 in range(n1)}
        y1 = {(yy, a1): sum(joint[yy, a1, a2] for a2 in range(n2)) for yy in range(ny) for a1 in range(n1)}
        y2 = {(yy, a2): sum(joint[yy, a1, a2] for a1 in range(n1)) for yy in range(ny) for a2 in range(n2)}
        for yy in range(ny):
            for a1 in range(n1):
                for a2 in range(n2):
                    lhs = joint[yy, a1, a2] / y2[yy, a2]  # p(x'|x_t, y)
                    markov = joint[yy, a1, a2] / m12[a1, a2] == y1[yy, a1] / m1[a1]  # p(y|x',x_t) = p(y|x')
                    rhs = (m12[a1, a2] / m2[a2]) * (y1[yy, a1] / m1[a1]) / (y2[yy, a2] / m2[a2])
                    if lhs != rhs or not markov:
                        return StepCheck(Verdict.REFUTED, f"chain {_} disagrees at y={yy}, x'={a1}, x_t={a2}")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        "argument: Bayes' rule, then p(y|x',x_t) = p(y|x') because x_t depends on y only through x' "
        f"(Markov chain); both checked exactly with fractions on {CHAINS} random finite chains",
    )


def bayes_taylor_guided_mean() -> Proof:
    """Bayes, Taylor, completing the square: the guided mean mu + sigma^2 gamma grad log p(y|x_t)."""
    delta = sp.Symbol("delta", real=True)
    quad = -((xp - mu) ** 2) / (2 * sigma**2) + g * (xp - xt)
    square = -((xp - d.guided_mean(mu, sigma, g)) ** 2) / (2 * sigma**2)
    rest = g * (mu - xt) + sigma**2 * g**2 / 2
    mean_g, var_g = d.gaussian_tilt_moments(mu, sigma, g)
    lin = a * x + b
    return Proof(
        "classifier guidance: the guided mean",
        r"\(p(x_{t-1}|x_t,y) \approx \mathcal N(\mu(x_t) + \sigma_t^2\gamma\nabla\log p(y|x_t), \sigma_t^2)\)",
        [
            Step(
                r"p(x_{t-1}|x_t, y)",
                r"\frac{p(x_{t-1}|x_t)\,p(y|x_{t-1})}{p(y|x_t)}",
                "Bayes' rule, and p(y|x_{t-1}, x_t) = p(y|x_{t-1}) on the chain y -> x_0 -> x_{t-1} -> x_t",
                check=_check_bayes_on_chains,
            ),
            Step(
                sp.series(f(xt + delta) - f(xt), delta, 0, 2).removeO(),
                delta * sp.Derivative(f(xt), xt),
                "first-order Taylor step of log p(y|.) about x_t, delta = x_{t-1} - x_t (p(x_{t-1}|x_t) is "
                "concentrated near x_t)",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                quad, square + rest, "completing the square; the rest does not depend on x_{t-1}", simplifier=sp.expand
            ),
            Step(
                Shown(r"E_{N(\mu, \sigma^2) e^{g x}/Z}[x]", mean_g),
                Shown(r"\mu^{\text{guided}}(\mu, \sigma, g)", d.guided_mean(mu, sigma, g)),
                r"mean of \(N(\mu, \sigma^2) e^{g x}/Z\), integrated by SymPy",
            ),
            Step(
                Shown(r"\operatorname{Var}_{N(\mu, \sigma^2) e^{g x}/Z}[x]", var_g),
                sigma**2,
                r"its variance: the step keeps \(\sigma_t^2\)",
            ),
            Step(
                lin.subs(x, xp) - lin.subs(x, xt) - (xp - xt) * sp.diff(lin, x).subs(x, xt),
                0,
                "a linear log-likelihood has no Taylor remainder: the guided mean is then exact",
            ),
            Step(
                Shown(r"\mu^{\text{guided}}(\mu, \sigma, \gamma g)", d.guided_mean(mu, sigma, gamma * g)),
                Shown(r"\mu^{\text{guided}}_\gamma(\mu, \sigma, g)", d.guided_mean(mu, sigma, g, gamma)),
                "gradient scale: log p(y|x) -> gamma log p(y|x) multiplies g by gamma",
            ),
        ],
        domains={sigma: (sp.Rational(1, 10), 2, False)},
    )


def quadratic_tilt() -> Proof:
    """A quadratic log-likelihood keeps the tilt Gaussian, with mean mu + sigma^2 g/(1 - sigma^2 c)."""
    h = g * (x - mu) + c * (x - mu) ** 2 / 2
    m_q, v_q = d.quadratic_tilt_moments(mu, sigma, g, c)
    expo = -((x - mu) ** 2) / (2 * sigma**2) + h
    return Proof(
        "quadratic log-likelihood",
        r"\(\mathbb E[x] = \mu + \sigma^2 g/(1-\sigma^2 c),\ \mathrm{Var} = \sigma^2/(1 - \sigma^2 c)\)",
        [
            Step(
                expo,
                -((x - m_q) ** 2) / (2 * v_q) + g**2 * sigma**2 / (2 * (1 - sigma**2 * c)),
                "completing the square with precision 1/sigma^2 - c (needs sigma^2 c < 1)",
                simplifier=lambda e: sp.simplify(sp.expand(e)),
            ),
            Step(
                Shown(r"\bigl[m_q(\sigma)\bigr]_{\sigma^{\le 5}}", sp.series(m_q, sigma, 0, 6).removeO()),
                mu + sigma**2 * g + sigma**4 * g * c,
                "expanded in sigma: the sigma^4 term g c = h'h'' is the guided mean's error (h''' = 0)",
            ),
        ],
        domains={sigma: (sp.Rational(1, 10), sp.Rational(1, 2), False), c: (-2, 2, False)},
    )


def tilt_error_order_sigma4() -> Proof:
    """The guided mean errs by sigma^4 (h'h'' + h'''/2) + O(sigma^6); for a logistic h, in closed form."""
    series, hs, sig = d.tilt_mean_series(4)
    h1, h2, h3, _h4 = hs
    sgm = 1 / (1 + sp.exp(-(a * mu + b)))
    logistic_c = -(a**3) * sgm * (1 - sgm) * (3 - 4 * sgm) / 2
    m_q, _ = d.quadratic_tilt_moments(mu, sig, h1, h2)
    return Proof(
        "error of the guided mean",
        r"\(\mathbb E_{\rm tilt}[x] - \mu - \sigma^2 h'(\mu) = \sigma^4(h'h'' + h'''/2) + O(\sigma^6)\)",
        [
            Step(
                (x - mu) * d.gaussian_density(x, mu, sigma),
                -(sigma**2) * sp.diff(d.gaussian_density(x, mu, sigma), x),
                "Stein: (x - mu) N = -sigma^2 N', so E_tilt[x] - mu = sigma^2 E_tilt[h'(x)] after integrating by parts",
            ),
            Step(
                Shown(r"[\sigma^2]\bigl(E_{\text{tilt}}[x] - \mu\bigr)", series.coeff(sig, 2)),
                h1,
                r"\(\sigma^2\) term of the moment expansion (\(x = \mu + \sigma z\), \(z \sim N(0,1)\))",
            ),
            Step(
                Shown(r"[\sigma^4]\bigl(E_{\text{tilt}}[x] - \mu\bigr)", series.coeff(sig, 4)),
                h1 * h2 + h3 / 2,
                r"\(\sigma^4\) term: the error constant \(h'h'' + h'''/2\)",
            ),
            Step(
                Shown(r"[\sigma^3]\bigl(E_{\text{tilt}}[x] - \mu\bigr)", series.coeff(sig, 3)),
                0,
                "odd powers vanish: the ratio is even in sigma after the leading sigma",
            ),
            Step(
                Shown(r"\bigl[m_q(\sigma)\bigr]_{\sigma^{\le 4}} - \mu", sp.series(m_q, sig, 0, 5).removeO() - mu),
                Shown(r"\bigl(E_{\text{tilt}}[x] - \mu\bigr)\big|_{h''' = 0}", series.subs(h3, 0)),
                "consistency: with h''' = 0 the series is the expansion of the exact quadratic answer",
            ),
            Step(
                d.tilt_error_constant(d.log_sigmoid(a * x + b), x, mu),
                logistic_c,
                "h = log sigmoid(a x + b): h' = a(1-s), h'' = -a^2 s(1-s), h''' = -a^3 s(1-s)(1-2s)",
            ),
        ],
        domains={sigma: (sp.Rational(1, 10), 2, False), a: (sp.Rational(1, 2), 3, False)},
    )


def sharpened_classifier_normaliser() -> Proof:
    """For p^gamma/Z the gradient gains -grad log Z(x_t), nonzero unless gamma = 1 (exact for logistic)."""
    sig = lambda u: 1 / (1 + sp.exp(-u))
    pz = d.sharpened_classifier([sig(a * x), sig(-a * x)], gamma)
    log_z = sp.log(sig(a * x) ** gamma + sig(-a * x) ** gamma)
    l1, l2, l3 = sp.symbols("l1 l2 l3", real=True)
    soft = [sp.exp(v) / (sp.exp(l1) + sp.exp(l2) + sp.exp(l3)) for v in (l1, l2, l3)]
    sharp = d.sharpened_classifier(soft, gamma)
    z_val = d.log_normaliser_gradient_logistic(sp.Rational(13, 10), sp.Rational(7, 10), 3)
    return Proof(
        "the sharpened classifier's normaliser",
        r"\(\nabla\log\frac{p^\gamma}{Z} = \gamma\nabla\log p - \nabla\log Z,\ \nabla\log Z \ne 0\) for \(\gamma \ne 1\)",
        [
            Step(
                sp.diff(sp.log(p(x) ** gamma / q(x)), x),
                gamma * sp.diff(sp.log(p(x)), x) - sp.diff(sp.log(q(x)), x),
                "log of p^gamma / Z(x): Z depends on x_t when gamma != 1",
                simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True)),
            ),
            Step(
                pz[0],
                d.sharpened_logistic(a, x, gamma),
                "logistic p = sigmoid(a x): sigmoid(u)/sigmoid(-u) = e^u, so the sharpened one is sigmoid(gamma a x)",
                simplifier=lambda e: sp.simplify(
                    sp.powsimp(sp.expand_power_base(e.rewrite(sp.exp), force=True), force=True)
                ),
            ),
            Step(
                sp.diff(log_z, x),
                d.log_normaliser_gradient_logistic(a, x, gamma),
                "grad log Z = gamma grad log p - grad log sigmoid(gamma a x)",
            ),
            Step(sig(a * x) + sig(-a * x), 1, "gamma = 1: Z = 1 identically, so the original reading holds only there"),
            Step(
                sharp[0],
                sp.exp(gamma * l1) / (sp.exp(gamma * l1) + sp.exp(gamma * l2) + sp.exp(gamma * l3)),
                "any softmax classifier: sharpening = softmax(gamma * logits), whose Z depends on x",
                simplifier=lambda e: sp.simplify(sp.powsimp(sp.expand_power_base(e, force=True), force=True)),
            ),
            Step(
                z_val,
                r"\ne 0",
                "a = 1.3, gamma = 3, x = 0.7",
                relation=r"\ne",
                check=lambda: check_sign(z_val, "nonzero", "grad log Z at a = 1.3, gamma = 3, x = 0.7"),
            ),
        ],
        domains={a: (sp.Rational(1, 2), 3, False), gamma: (sp.Rational(1, 2), 4, False), x: (-2, 2, False)},
    )


def similarity_guidance() -> Proof:
    """p(x_{t-1}|x_t) e^{gamma sim(x_{t-1}, y)}/Z, sim linearised at x_t: mean mu + sigma^2 gamma grad sim."""
    delta = sp.Symbol("delta", real=True)
    sim = sp.Function("sim")
    quad = -((xp - mu) ** 2) / (2 * sigma**2) + gamma * s_ * (xp - xt)
    return Proof(
        "similarity guidance",
        r"\(p(x_{t-1}|x_t,y) \approx \mathcal N(\mu(x_t) + \sigma_t^2\gamma\nabla{\rm sim}(x_t,y), \sigma_t^2)\)",
        [
            Step(
                sp.series(gamma * sim(xt + delta), delta, 0, 2).removeO(),
                gamma * sim(xt) + gamma * delta * sp.Derivative(sim(xt), xt),
                "expand e^{gamma sim(x_{t-1}, y)} at x_{t-1} = x_t (delta = x_{t-1} - x_t)",
                simplifier=lambda e: sp.simplify(e.doit()),
            ),
            Step(
                quad,
                -((xp - d.similarity_guided_mean(mu, sigma, gamma, s_)) ** 2) / (2 * sigma**2)
                + gamma * s_ * (mu - xt)
                + sigma**2 * gamma**2 * s_**2 / 2,
                "complete the square with s = grad sim(x_t, y); gamma is part of the definition",
                simplifier=sp.expand,
            ),
        ],
    )


def continuous_guidance() -> Proof:
    """The SDE/ODE form: replace eps by eps - betabar grad log p_t(y|x); its mean shift is beta^2 gamma g/alpha."""
    bb_sq = 1 - alpha_t**2 + alpha_t**2 * bb_prev**2  # betabar_t^2 = beta_t^2 + alpha_t^2 betabar_{t-1}^2
    bbt = sp.sqrt(bb_sq)
    ab_prev = sp.sqrt(1 - bb_prev**2)
    ab_t = alpha_t * ab_prev
    x0_hat = (xt - bbt * eps) / ab_t
    shift = d.reverse_mean(xt, d.conditional_epsilon(eps, bb_t, g, gamma), alpha_t, bb_t) - d.reverse_mean(
        xt, eps, alpha_t, bb_t
    )
    beta_t = sp.sqrt(1 - alpha_t**2)
    ho = ds.ho_from_su(alpha_t, ab_t)
    ho_prev = ds.ho_from_su(alpha_t, ab_prev)
    return Proof(
        "continuous (SDE/ODE) guidance and the 1/alpha_t factor",
        r"\(\nabla\log p_t(x|y) = -[\varepsilon_\theta - \bar\beta_t\nabla\log p_t(y|x)]/\bar\beta_t;"
        r" \varepsilon\text{-space shifts } \mu \text{ by } \beta_t^2\gamma g/\alpha_t\)",
        [
            Step(
                sp.diff(sp.log(p(x) * q(x) / c), x),
                sp.diff(sp.log(p(x)), x) + sp.diff(sp.log(q(x)), x),
                "Bayes: log p_t(x|y) = log p_t(x) + log p_t(y|x) - log p(y)",
                simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True)),
            ),
            Step(
                d.score_from_epsilon(eps, bb_t) + g,
                d.score_from_epsilon(d.conditional_epsilon(eps, bb_t, g), bb_t),
                "score = -eps/betabar_t: the conditional score is that of eps - betabar_t g",
            ),
            Step(
                shift,
                d.epsilon_guidance_mean_shift(alpha_t, gamma, g),
                "substitute the guided eps in mu = (x_t - beta_t^2 eps/betabar_t)/alpha_t",
            ),
            Step(
                Shown(
                    r"\Delta\mu^{\varepsilon} / \Delta\mu^{\text{mean}}",
                    d.epsilon_guidance_mean_shift(alpha_t, gamma, g) / (d.guided_mean(0, beta_t, g, gamma)),
                ),
                1 / alpha_t,
                "against the mean-space rule with sigma_t = beta_t: the factor 1/alpha_t (-> 1 as alpha_t -> 1)",
            ),
            Step(
                d.reverse_mean(xt, eps, alpha_t, bbt),
                d.ddpm_posterior_mean(xt, x0_hat, alpha_t, bb_prev, bbt),
                "DDPM's eps-parameterised mean is the posterior mean at x0_hat = (x_t - betabar_t eps)/alphabar_t",
                simplifier=lambda e: sp.simplify(sp.radsimp(sp.expand(e))),
            ),
            Step(
                d.ddpm_posterior_sigma(alpha_t, bb_prev, bbt) ** 2,
                (1 - ho_prev["alpha_bar"]) / (1 - ho["alpha_bar"]) * ho["beta"],
                "posterior sigma_t^2 is Ho's beta-tilde (1 - abar_{t-1})/(1 - abar_t) beta_t in Ho's convention",
            ),
        ],
        domains={
            alpha_t: (sp.Rational(1, 2), sp.Rational(99, 100), False),
            bb_prev: (sp.Rational(1, 10), sp.Rational(9, 10), False),
            bb_t: (sp.Rational(1, 10), 1, False),
        },
    )


def classifier_free_identities() -> Proof:
    """(1+w) eps_c - w eps_u = eps_u + s (eps_c - eps_u) with s = 1 + w = gamma; the mean form; equivalence."""
    gam = 1 + w
    mu_u = sp.Symbol("mu_u", real=True)
    eps_cond_exact = d.conditional_epsilon(eps_u, bb_t, g)
    return Proof(
        "classifier-free guidance identities",
        r"\((1+w)\varepsilon_c - w\varepsilon_u = \varepsilon_u + s(\varepsilon_c - \varepsilon_u),\ s = 1 + w = \gamma\)",
        [
            Step(
                d.cfg_mean(d.guided_mean(mu_u, sigma, g), mu_u, gamma),
                d.guided_mean(mu_u, sigma, g, gamma),
                "mean form: gamma [mu + sigma^2 grad log p] - (gamma - 1) mu",
            ),
            Step(
                d.cfg_epsilon(eps_c, eps_u, w),
                d.cfg_epsilon_from_scale(eps_c, eps_u, d.guidance_scale_from_w(w)),
                "Ho & Salimans' w form = the libraries' guidance_scale form with s = 1 + w",
            ),
            Step(
                Shown(r"w\bigl(s(w)\bigr)", d.w_from_guidance_scale(d.guidance_scale_from_w(w))),
                w,
                r"\(s = 1 + w\) and \(w = s - 1\) are inverse",
            ),
            Step(
                d.reverse_mean(xt, d.cfg_epsilon(eps_c, eps_u, w), alpha_t, bb_t),
                d.cfg_mean(d.reverse_mean(xt, eps_c, alpha_t, bb_t), d.reverse_mean(xt, eps_u, alpha_t, bb_t), gam),
                "mu is affine in eps, so the eps form is the mean form with gamma = 1 + w",
            ),
            Step(
                d.cfg_epsilon(eps_cond_exact, eps_u, w),
                d.conditional_epsilon(eps_u, bb_t, g, gam),
                "with the exact conditional model eps_c = eps_u - betabar_t grad log p_t(y|x), CFG is eps-space "
                "classifier guidance with gamma = 1 + w",
            ),
        ],
    )


def guided_score_at_gamma_one() -> Proof:
    """On a Gaussian mixture, grad log p_t(x) + grad log p_t(y|x) is the score of the diffused p_0(x|y)."""
    ab = sp.Symbol("alphabar_t", positive=True)
    m1, m2 = sp.symbols("m_1 m_2", real=True)
    s1, s2 = sp.symbols("s_1 s_2", positive=True)
    pi1 = sp.Symbol("pi_1", positive=True)
    mean1, sd1 = d.diffused_component(m1, s1, ab)
    mean2, sd2 = d.diffused_component(m2, s2, ab)
    n1 = d.gaussian_density(x, mean1, sd1)
    n2 = d.gaussian_density(x, mean2, sd2)
    p_t = pi1 * n1 + (1 - pi1) * n2
    p_y = pi1 * n1 / p_t
    u = sp.Symbol("u", real=True)
    mgf = lambda m, v: sp.exp(u * m + u**2 * v / 2)
    zpt = sp.Symbol("z", real=True)
    mean_c = [sp.Rational(-1), sp.Rational(1, 2)]
    return Proof(
        "guidance at gamma = 1 samples p(x|y) (exact scores)",
        r"\(\nabla\log p_t(x) + \nabla\log p_t(y|x) = \nabla\log p_t(x|y)\)",
        [
            Step(
                mgf(ab * m1, ab**2 * s1**2) * mgf(0, 1 - ab**2),
                mgf(mean1, sd1**2),
                "x_t = alphabar x_0 + betabar eps, independent: the MGFs multiply, so N(m, s^2) diffuses to "
                "N(alphabar m, alphabar^2 s^2 + betabar^2)",
            ),
            Step(
                sp.diff(sp.log(p_t), x) + sp.diff(sp.log(p_y), x),
                sp.diff(sp.log(n1), x),
                "class y = component 1: p_t(x) p_t(y|x) = pi_1 N_1, the diffused p_0(x|y) up to a constant",
            ),
            Step(
                Shown(
                    r"F_{\text{mixture}}(z)\big|_{\text{one component}}",
                    d.mixture_cdf([zpt], [1], [[mean_c[0]]], [sp.Rational(1, 2)]),
                ),
                d.normal_cdf((zpt + 1) * 2),
                "the target CDF of a one-component class is Phi((x - m)/s)",
            ),
        ],
        domains={
            ab: (sp.Rational(1, 10), sp.Rational(9, 10), False),
            pi1: (sp.Rational(1, 10), sp.Rational(9, 10), False),
        },
    )
