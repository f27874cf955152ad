r"""Step-checked derivations for the unified diffusion model (posts 9262, 9271) and its conventions.

Hot-diffusion identities are checked by SymPy in Su's convention, with
:math:`\beta_t` and :math:`\bar\beta_{t-1}` as the free positive symbols (so
that square roots of squares simplify); the comparison with Ho et al.'s and
Song et al.'s formulas substitutes the conversion table.  Discrete marginal
constraints are proved by a counting identity in (l, t, V) and confirmed by
exact enumeration with fractions.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import sympy as sp

from closedform.derive import schedules as sch
from closedform.derive import udm as d
from closedform.derive import udm_discrete as dd
from closedform.proofs.core import Proof, Shown, Step, StepCheck, Verdict

# Su's per-step and cumulative noise scales as the free symbols: beta_t = B, betabar_{t-1} = Q.
B, Q = sp.symbols("beta_t betabar_{t-1}", positive=True)
A = sp.sqrt(1 - B**2)  # alpha_t
AP = sp.sqrt(1 - Q**2)  # alphabar_{t-1}
AB = A * AP  # alphabar_t
BB = sp.sqrt(1 - AB**2)  # betabar_t
x0, xt, e1, e2, mu0, s0, lam, eta, st = sp.symbols(
    "x_0 x_t varepsilon_1 varepsilon_2 mu_0 s_0 lambda eta sigmatilde", real=True
)
s0p = sp.Symbol("s_0", positive=True)
sig = sp.Symbol("sigma_t", nonnegative=True)
u = sp.Symbol("u", real=True)
l_, t_, V_ = sp.symbols("l t V", integer=True, positive=True)
a_, b_, s_ = sp.symbols("a b s", positive=True)

_DOM = {
    B: (sp.Rational(1, 50), sp.Rational(49, 50), False),
    Q: (sp.Rational(1, 50), sp.Rational(49, 50), False),
    sig: (0, sp.Rational(1, 50), False),
    lam: (0, 1, False),
    eta: (0, 1, False),
    st: (0, 1, False),
}


def _exp(e):
    return sp.expand(sp.simplify(e))


_a, _q = sp.symbols("alpha_t alphabar_{t-1}", positive=True)
#: beta_t = sqrt(1 - alpha_t^2), betabar_{t-1} = sqrt(1 - alphabar_{t-1}^2): in these symbols the
#: square roots of 1 - B^2 and 1 - Q^2 are alpha_t and alphabar_{t-1} (both positive).
_BACK = {B: sp.sqrt(1 - _a**2), Q: sp.sqrt(1 - _q**2)}


def _su(e):
    """simplify; when that leaves sqrt(1 - beta^2) terms, rewrite in (alpha_t, alphabar_{t-1}) and simplify again."""
    one = (lambda f, x: x.applyfunc(f)) if isinstance(e, sp.MatrixBase) else (lambda f, x: f(x))
    r = one(sp.simplify, e)
    zero = r.is_zero_matrix if isinstance(r, sp.MatrixBase) else r == 0
    if zero:
        return r
    # On the domain 0 < alpha_t, alphabar_{t-1} < 1 every radicand is positive, so square roots
    # may be merged and denested (force=True) and 1 - alpha^2 > 0 may be assumed (refine).
    inside = sp.Q.positive(1 - _a**2) & sp.Q.positive(1 - _q**2) & sp.Q.positive(1 - _a**2 * _q**2)

    def go(x):
        x = sp.powsimp(sp.powdenest(sp.simplify(x.subs(_BACK)), force=True), force=True)
        return sp.simplify(sp.refine(sp.simplify(sp.refine(sp.factor(x), inside)), inside))

    return one(go, e)


# ---------------------------------------------------------------------------
# Conventions
# ---------------------------------------------------------------------------


def conversion_round_trip() -> Proof:
    """Su <-> Ho: the conversion table and both helper functions invert each other."""
    a, ab = sch.alpha, sch.alpha_bar
    ha, hab = sch.ho_alpha, sch.ho_alpha_bar
    su = {"alpha_t": a, "beta_t": sp.sqrt(1 - a**2), "alpha_bar_t": ab, "beta_bar_t": sp.sqrt(1 - ab**2)}
    back = {k: v.subs({ha: a**2, sch.ho_beta: 1 - a**2, hab: ab**2}) for k, v in sch.SU_FROM_HO.items()}
    ho = sch.ho_from_su(a, ab)
    again = sch.su_from_ho(ho["alpha"], ho["alpha_bar"])
    round_ho = sch.ho_from_su(*(sch.su_from_ho(ha, hab)[k] for k in ("alpha", "alpha_bar")))
    table = sp.Matrix(
        [sch.HO_FROM_SU[k] for k in ("alpha_t (Ho)", "beta_t (Ho)", "alpha_bar_t (Ho)", "1 - alpha_bar_t (Ho)")]
    )
    return Proof(
        "Su/Ho conversion round trip",
        r"\(\alpha^{Ho} = \alpha^2,\ \beta^{Ho} = \beta^2,\ \bar\alpha^{Ho} = \bar\alpha^2,\ 1-\bar\alpha^{Ho} = \bar\beta^2\), and back",
        [
            Step(
                Shown(
                    r"\mathrm{SU\_FROM\_HO} \circ \mathrm{HO\_FROM\_SU}\,(\alpha, \beta, \bar\alpha, \bar\beta)",
                    sp.Matrix([back[k] for k in su]),
                ),
                sp.Matrix([su[k] for k in su]),
                "SU_FROM_HO after substituting HO_FROM_SU (alpha, alphabar in (0, 1))",
            ),
            Step(
                Shown(
                    r"\mathrm{HO\_FROM\_SU}(\alpha, \bar\alpha)",
                    table.subs({sch.beta: sp.sqrt(1 - a**2), sch.beta_bar: sp.sqrt(1 - ab**2)}),
                ),
                Shown(
                    r"\mathtt{ho\_from\_su}(\alpha, \bar\alpha)",
                    sp.Matrix([ho["alpha"], ho["beta"], ho["alpha_bar"], 1 - ho["alpha_bar"]]),
                ),
                "HO_FROM_SU agrees with ho_from_su",
            ),
            Step(
                Shown(
                    r"\mathtt{su\_from\_ho}(\mathtt{ho\_from\_su}(\alpha, \bar\alpha))",
                    sp.Matrix([again["alpha"], again["beta"], again["alpha_bar"], again["beta_bar"]]),
                ),
                sp.Matrix([a, sp.sqrt(1 - a**2), ab, sp.sqrt(1 - ab**2)]),
                "su_from_ho(ho_from_su(.)) is the identity",
            ),
            Step(
                Shown(
                    r"\mathtt{ho\_from\_su}(\mathtt{su\_from\_ho}(\alpha^{Ho}, \bar\alpha^{Ho}))",
                    sp.Matrix([round_ho["alpha"], round_ho["beta"], round_ho["alpha_bar"]]),
                ),
                sp.Matrix([ha, 1 - ha, hab]),
                "ho_from_su(su_from_ho(.)) is the identity",
            ),
        ],
        domains={
            a: (sp.Rational(1, 50), sp.Rational(49, 50), False),
            ab: (sp.Rational(1, 50), sp.Rational(49, 50), False),
            ha: (sp.Rational(1, 50), sp.Rational(49, 50), False),
            hab: (sp.Rational(1, 50), sp.Rational(49, 50), False),
        },
    )


def ho_formulas_in_su_notation() -> Proof:
    """Ho's eq. (7) and Song's eqs. (12), (16), converted by the table, are the formulas in Su's notation."""
    ho_a, ho_ab, ho_abp = A**2, AB**2, AP**2
    ho_post = sch.ho_ddpm_posterior(ho_a, ho_ab, ho_abp)
    su_post = d.ddpm_posterior_coefficients(A, AP)
    song = sch.ho_ddim_coefficients(ho_ab, ho_abp, sig)
    general = d.general_posterior_coefficients(AP, AB, sig)
    t, T = sp.symbols("t T", positive=True)
    s_off = sp.Rational(8, 1000)
    nichol = sp.cos((t / T + s_off) / (1 + s_off) * sp.pi / 2) ** 2 / sp.cos(s_off / (1 + s_off) * sp.pi / 2) ** 2
    lin_steps = [
        Step(
            Shown(
                rf"\bigl(\bar\alpha^{{\text{{table}}}}_{{{k}}}\bigr)^2", sch.schedule_alpha_bars("linear", 1000)[k] ** 2
            ),
            Shown(rf"\prod_{{s \le {k}}} (1 - \beta^{{Ho}}_s)", sch.linear_alpha_bar(k, 1000) ** 2),
            f"linear schedule at T = 1000, t = {k}: product of alpha_t = sqrt(1 - beta^Ho_t) (linear_alpha)",
            simplifier=sp.nsimplify,
        )
        for k in (1, 2, 3)
    ]
    return Proof(
        "Ho's and Song's formulas in Su's notation",
        r"\(\tilde\mu_t, \tilde\beta_t\) (Ho eq. 7) and DDIM eqs. (12), (16) equal the Su-notation formulas",
        [
            Step(
                sp.Matrix([sp.sqrt(ho_ab), sp.sqrt(1 - ho_ab)]),
                sp.Matrix([AB, BB]),
                "forward marginal q(x_t|x_0) = N(sqrt(abar^Ho) x_0, 1 - abar^Ho) is N(abar x_0, betabar^2)",
                simplifier=_su,
            ),
            Step(
                Shown(r"\bigl(\tilde\mu^{Ho}_t \text{ coefficients}, \tilde\beta^{Ho}_t\bigr)", sp.Matrix(ho_post)),
                sp.Matrix(su_post),
                "DDPM posterior mean coefficients and variance (Ho eq. 7)",
                simplifier=_su,
            ),
            Step(
                sch.ho_ddim_sigma(1, ho_ab, ho_abp),
                d.ddpm_sigma(A, AP),
                "Song's sigma_t(eta = 1) is DDPM's sigma",
                simplifier=_su,
            ),
            Step(
                sch.ho_ddim_sigma(eta, ho_ab, ho_abp),
                eta * d.ddpm_sigma(A, AP),
                "Song's eta scales DDPM's sigma",
                simplifier=_su,
            ),
            Step(
                sp.Matrix(song),
                sp.Matrix(general),
                "Song's eq. (12) is the general posterior, for every sigma",
                simplifier=_su,
            ),
            Step(
                sch.cosine_alpha_bar(t, T) ** 2,
                nichol,
                "cosine schedule: Su's alphabar is the square root of Nichol-Dhariwal's",
            ),
            Step(
                Shown(r"\bar\alpha_2^{\cos}\big|_{T = 4,\ s = 0}", sch.schedule_alpha_bars("cosine", 4, s=0)[2]),
                sp.sqrt(2) / 2,
                "cosine schedule with s = 0: alphabar_t = cos(pi t / 2T)",
            ),
            *lin_steps,
            Step(
                Shown(r"\bar\beta(\bar\alpha_t)", sch.beta_bar_of(AB)),
                BB,
                r"\(\bar\beta_t = \sqrt{1 - \bar\alpha_t^2}\)",
            ),
            Step(
                Shown(r"\alpha_1^2\big|_{T = 1000}", sch.linear_alpha(1, 1000) ** 2),
                1 - sp.Rational(1, 10**4),
                r"\(\alpha_1^2 = 1 - \beta^{Ho}_1\)",
            ),
        ],
        domains={**_DOM, t: (0, 1, False), T: (1, 1, False)},
    )


# ---------------------------------------------------------------------------
# Hot diffusion
# ---------------------------------------------------------------------------


def hot_marginal_constraint() -> Proof:
    """The general posterior with Gaussian noise satisfies the marginal constraint, for every admissible sigma."""
    x_t = AB * x0 + BB * e1
    post = d.general_posterior(x0, x_t, e2, AP, AB, sig)
    c1 = sp.sqrt(Q**2 - sig**2)
    w = sp.Symbol("omega", real=True)
    return Proof(
        "hot diffusion: marginal constraint",
        r"\(\int p(x_{t-1}|x_t,x_0)p(x_t|x_0)dx_t = N(\bar\alpha_{t-1}x_0, \bar\beta_{t-1}^2)\) for \(0 \le \sigma_t \le \bar\beta_{t-1}\)",
        [
            Step(
                Shown(r"x_{t-1}\big|_{x_t = \bar\alpha_t x_0 + \bar\beta_t \varepsilon_1}", post),
                AP * x0 + c1 * e1 + sig * e2,
                "substitute x_t = alphabar_t x_0 + betabar_t eps_1: the x_0 terms of (x_t - alphabar_t x_0) cancel",
                simplifier=_exp,
            ),
            Step(
                sp.Add(sp.Pow(c1, 2, evaluate=False), sig**2, evaluate=False),
                Q**2,
                r"variance of \(c\,\varepsilon_1 + \sigma_t \varepsilon_2\) (independent, unit variance)",
            ),
            Step(
                sp.exp(-(c1**2) * w**2 / 2) * sp.exp(-(sig**2) * w**2 / 2),
                sp.exp(-(Q**2) * w**2 / 2),
                "characteristic functions multiply: the sum is N(0, betabar_{t-1}^2)",
                simplifier=lambda e: sp.simplify(sp.powsimp(e)),
            ),
            Step(
                3 * c1**4 + 6 * c1**2 * sig**2 + 3 * sig**4,
                3 * Q**4,
                "fourth moment 3 betabar^4, what the simulation checks",
                simplifier=_exp,
            ),
        ],
        domains=_DOM,
    )


def ddpm_and_ddim_reductions() -> Proof:
    """sigma_t = betabar_{t-1} beta_t / betabar_t gives DDPM's posterior; sigma_t = 0 gives DDIM; sigma = sigmatilde betabar_{t-1}."""
    s_ddpm = d.ddpm_sigma(A, AP)
    c0, ct, s = d.general_posterior_coefficients(AP, AB, s_ddpm)
    p0, pt, pv = d.ddpm_posterior_coefficients(A, AP)
    z0, zt, _ = d.general_posterior_coefficients(AP, AB, 0)
    eps_hat = (xt - AB * x0) / BB
    return Proof(
        "hot diffusion: DDPM and DDIM",
        r"\(\sigma_t = \bar\beta_{t-1}\beta_t/\bar\beta_t\) gives DDPM's posterior; \(\sigma_t = 0\) gives DDIM",
        [
            Step(Shown(r"\sigma_t^{\text{DDPM}}", s_ddpm), Q * B / BB, "DDPM's sigma in the free symbols"),
            Step(
                BB**2 - B**2,
                A**2 * Q**2,
                "key identity betabar_t^2 - beta_t^2 = alpha_t^2 betabar_{t-1}^2",
                simplifier=_exp,
            ),
            Step(
                Q**2 - s_ddpm**2,
                A**2 * Q**4 / BB**2,
                "so betabar_{t-1}^2 - sigma_t^2 = alpha_t^2 betabar_{t-1}^4 / betabar_t^2",
            ),
            Step(ct, pt, "x_t coefficient: alpha_t betabar_{t-1}^2 / betabar_t^2", simplifier=_su),
            Step(c0, p0, "x_0 coefficient: alphabar_{t-1} beta_t^2 / betabar_t^2", simplifier=_su),
            Step(
                Shown(r"\sigma_t^2\big|_{\text{general}}", s**2),
                Shown(r"\tilde\beta_t^{\text{DDPM}}", pv),
                r"variance: \(\bar\beta_{t-1}^2 \beta_t^2 / \bar\beta_t^2\)",
            ),
            Step(
                z0 * x0 + zt * xt,
                AP * x0 + Q * eps_hat,
                "sigma = 0: x_{t-1} = alphabar_{t-1} x0hat + betabar_{t-1} epshat (DDIM, deterministic)",
                simplifier=_exp,
            ),
            Step(
                d.sigma_from_sigma_tilde(st, Q) ** 2 + (Q**2 - d.sigma_from_sigma_tilde(st, Q) ** 2),
                Q**2 * (1 - st**2) + Q**2 * st**2,
                "post 9262's mixing sqrt(1 - sigmatilde^2) eps_1 + sigmatilde eps_2 scaled by betabar_{t-1}: sigma_t = sigmatilde betabar_{t-1}",
                simplifier=_exp,
            ),
        ],
        domains=_DOM,
    )


def _exact_chain_check() -> StepCheck:
    """Run the moment recursion of the exact-sampling chain in exact rational arithmetic."""
    import random

    rng = random.Random(5)
    for T in range(1, 5):
        # a random strictly decreasing schedule of rational alphabar^2, as exact square roots
        cuts = sorted({Fraction(rng.randint(1, 999), 1000) for _ in range(T)}, reverse=True)
        while len(cuts) < T:
            cuts.append(cuts[-1] / 2)
        ab = [sp.Integer(1)] + [sp.sqrt(sp.Rational(c.numerator, c.denominator)) for c in cuts]
        m0, v0 = sp.Rational(3, 2), sp.Rational(9, 100)
        mean, var = ab[T] * m0, ab[T] ** 2 * v0 + 1 - ab[T] ** 2
        for t in range(T, 0, -1):
            lam_t = sp.Rational(rng.randint(0, 10), 10)
            sigma = lam_t * sp.sqrt(1 - ab[t - 1] ** 2)
            c0, ct, s = d.general_posterior_coefficients(ab[t - 1], ab[t], sigma)
            mh, vh = d.gaussian_x0_posterior(sp.Symbol("y"), m0, sp.sqrt(v0), ab[t])
            k = sp.diff(mh, sp.Symbol("y"))
            m_hat = mh.subs(sp.Symbol("y"), mean)
            var_hat, cov = k**2 * var + vh, k * var
            mean = sp.nsimplify(sp.simplify(c0 * m_hat + ct * mean))
            var = sp.simplify(c0**2 * var_hat + ct**2 * var + 2 * c0 * ct * cov + s**2)
        if sp.simplify(mean - m0) != 0 or sp.simplify(var - v0) != 0:
            return StepCheck(Verdict.REFUTED, f"T={T}: final moments {mean}, {var}")
    return StepCheck(
        Verdict.CHECKED_NUMERICALLY,
        "induction on t from the previous step (x_T is drawn from p_T); the exact rational recursion of "
        "(mean, variance) through random schedules and sigmas, T = 1..4, ends exactly at (mu_0, s_0^2)",
    )


def exactness_theorem() -> Proof:
    """Exact samples x0hat ~ p(x0|x_t) make the reverse chain reproduce every marginal; the plug-in mean shrinks it."""
    v_t = AB**2 * s0p**2 + BB**2
    m, v = d.gaussian_x0_posterior(xt, mu0, s0p, AB)
    k = sp.diff(m, xt)
    c0, ct, s = d.general_posterior_coefficients(AP, AB, sig)
    var_prev = c0**2 * (k**2 * v_t + v) + ct**2 * v_t + 2 * c0 * ct * k * v_t + s**2
    plug = c0**2 * k**2 * v_t + ct**2 * v_t + 2 * c0 * ct * k * v_t + s**2
    return Proof(
        "exactness of the predict-correct chain (Gaussian data)",
        r"\(x_t \sim p_t,\ \hat x_0 \sim p(x_0|x_t) \Rightarrow x_{t-1} \sim p_{t-1}; \hat x_0 = E[x_0|x_t]\) loses \(c_0^2 \operatorname{Var}(x_0|x_t)\)",
        [
            Step(v, s0p**2 * BB**2 / v_t, "Bayes for N(mu_0, s_0^2) data: the posterior variance of x_0 given x_t"),
            Step(k**2 * v_t + v, s0p**2, "x0hat = m(x_t) + sqrt(v) xi has the variance of x_0 ..."),
            Step(k * v_t, AB * s0p**2, "... and the covariance with x_t of x_0: (x0hat, x_t) ~ p(x_0, x_t)"),
            Step(
                var_prev,
                AP**2 * s0p**2 + Q**2,
                "then x_{t-1} has variance alphabar_{t-1}^2 s_0^2 + betabar_{t-1}^2: the marginal p_{t-1}",
            ),
            Step(
                c0 * (mu0 + k * 0) + ct * AB * mu0 - (c0 + ct * AB) * mu0,
                0,
                "means: E x0hat = mu_0 (tower property), so E x_{t-1} = (c_0 + c_t alphabar_t) mu_0 = alphabar_{t-1} mu_0",
            ),
            Step(
                Shown(r"c_0 + c_t \bar\alpha_t", c0 + ct * AB),
                AP,
                r"\(c_0 + c_t \bar\alpha_t = \bar\alpha_{t-1}\)",
            ),
            Step("p_T", "p_0", "by induction down from t = T", relation=r"\Rightarrow", check=_exact_chain_check),
            Step(
                plug,
                d.plugin_gain(AP, AB, sig, s0p) ** 2 * v_t + s**2,
                "plug-in mean (v = 0): Var_{t-1} = g^2 Var_t + sigma_t^2",
            ),
            Step(var_prev - plug, c0**2 * v, "the deficit of one plug-in step is c_0^2 Var(x_0|x_t) >= 0"),
        ],
        domains={**_DOM, s0p: (sp.Rational(1, 10), 2, False)},
    )


def uniform_mixing_fails() -> Proof:
    """Post 9262's (c) needs Gaussian noise: mixing two unit-variance uniforms is not uniform."""
    m2, m4 = d.uniform_mixing_moments(st)
    a, b = sp.sqrt(1 - st**2), st
    sv = sp.Symbol("s", real=True)
    return Proof(
        "Gaussian mixing fails for uniform noise",
        r"\(w = \sqrt{1-\tilde\sigma^2}u_1 + \tilde\sigma u_2: E w^4 \ne 9/5\) and \(P(|w| > \sqrt3) > 0\) for \(0 < \tilde\sigma < 1\)",
        [
            Step(Shown(r"E w^2", m2), 1, r"the variance is right: \(a^2 + b^2 = 1\)"),
            Step(
                m4 - sp.Rational(9, 5),
                sp.Rational(12, 5) * st**2 * (1 - st**2),
                "but E w^4 - E u^4 = (12/5) a^2 b^2 > 0",
                simplifier=_exp,
            ),
            Step(
                (a_ + b_) ** 2 - (a_**2 + b_**2),
                2 * a_ * b_,
                "(a + b)^2 = 1 + 2ab > 1: the support of w/sqrt3 reaches past 1",
                simplifier=_exp,
            ),
            Step(
                sp.integrate((a_ + b_ - sv) / (4 * a_ * b_), (sv, 1, a_ + b_)),
                (a_ + b_ - 1) ** 2 / (8 * a_ * b_),
                "mass of the trapezoid's ramp (a - b <= 1 <= a + b) beyond 1",
                simplifier=sp.factor,
            ),
            Step(
                Shown(r"P(|w| > \sqrt3)\big|_{\tilde\sigma = 3/5}", d.uniform_mixing_tail(sp.Rational(3, 5))),
                sp.Subs((a + b - 1) ** 2 / (4 * a * b), st, sp.Rational(3, 5)),
                "two tails: P(|w| > sqrt3) = (a + b - 1)^2 / 4ab; at sigmatilde = 3/5 it is 1/12",
            ),
        ],
        domains=_DOM,
    )


# ---------------------------------------------------------------------------
# Cold diffusion
# ---------------------------------------------------------------------------


def cold_improved_exact() -> Proof:
    """The improved cold sampler is exact when x0hat = x_0, for any degradation F and noise sigma."""
    Ft, Fp = sp.Function("F_t"), sp.Function("F_{t-1}")
    sigma, eps = sp.symbols("sigma varepsilon", real=True)
    n = 6
    ap, at = d.box_blur_matrix(n, 2), d.box_blur_matrix(n, 3)
    e = sp.Matrix(sp.symbols(f"e_0:{n}", real=True))
    x = sp.Matrix(sp.symbols(f"x_0:{n}", real=True))
    naive_mse, improved_mse = d.cold_mean_squared_errors(n, 2, 3, s_)
    return Proof(
        "cold diffusion: improved sampling is exact",
        r"\(x_t = F_t(x_0) + \sigma\varepsilon,\ \hat x_0 = x_0 \Rightarrow x_t + F_{t-1}(\hat x_0) - F_t(\hat x_0) = F_{t-1}(x_0) + \sigma\varepsilon\)",
        [
            Step(
                Shown(
                    r"x_t + F_{t-1}(\hat x_0) - F_t(\hat x_0)\big|_{x_t = F_t(x_0) + \sigma\varepsilon}",
                    d.improved_cold_step(Ft(x0) + sigma * eps, Fp(x0), Ft(x0)),
                ),
                Fp(x0) + sigma * eps,
                "eps = (x_t - F_t(x_0)) / sigma is recovered exactly: the step is the forward process with the same noise",
            ),
            Step(
                Shown(
                    r"F_{t-1}(\hat x_0) - \bigl(F_{t-1}(x_0) + \sigma\varepsilon\bigr)",
                    d.naive_cold_step(Fp(x0)) - (Fp(x0) + sigma * eps),
                ),
                -sigma * eps,
                "the naive step F_{t-1}(x_0) discards that noise (exact only as sigma -> 0)",
            ),
            Step(
                Shown(
                    r"x_t + A_{t-1}(x + e) - A_t(x + e) - A_{t-1} x\big|_{x_t = A_t x}",
                    d.improved_cold_step(at * x, ap * (x + e), at * (x + e)) - ap * x,
                ),
                (ap - at) * e,
                "linear blur (n = 6, widths 3 -> 2, sigma -> 0): improved error (A_{t-1} - A_t) e, first order cancels",
                simplifier=lambda m: m.applyfunc(sp.expand),
            ),
            Step(
                Shown(r"A_{t-1}(x + e) - A_{t-1} x", d.naive_cold_step(ap * (x + e)) - ap * x),
                ap * e,
                "naive error A_{t-1} e",
                simplifier=lambda m: m.applyfunc(sp.expand),
            ),
            Step(
                Shown(r"\bigl(E|A_{t-1} e|^2,\ E|(A_{t-1} - A_t) e|^2\bigr)/n", sp.Matrix([naive_mse, improved_mse])),
                sp.Matrix([s_**2 * sum(v**2 for v in ap) / n, s_**2 * sum(v**2 for v in ap - at) / n]),
                "E |M e|^2 / n = s^2 tr(M^T M) / n for e ~ N(0, s^2 I)",
            ),
        ],
    )


# ---------------------------------------------------------------------------
# Discrete models
# ---------------------------------------------------------------------------


def _mismatches(model: str, cases) -> sp.Integer:
    bad = 0
    for x0_, V, t, sched in cases:
        lhs, rhs = dd.marginal_constraint(model, x0_, t, V, sched)
        bad += sum(lhs.get(k, 0) != rhs.get(k, 0) for k in set(lhs) | set(rhs))
    return sp.Integer(bad)


def _small_cases(model: str, length: int = 4, V: int = 3):
    x0_ = tuple(i % V for i in range(length)) if model != "deletion" else (0, 1, 0, 1)
    return [(x0_, V, t, None) for t in range(1, length + 1)]


def edit_v1_not_invertible() -> Proof:
    """Edit v1: visible changes are Binomial(t, (V-1)/V); (x_0, x_t) does not identify the edit."""
    k = sp.Symbol("k", integer=True, nonnegative=True)
    x0_ = (0, 1, 2, 0)
    law = dd.forward_law("edit_v1", x0_, 3, 3)
    counts = [
        sum((p for x, p in law.items() if sum(a != b for a, b in zip(x, x0_)) == j), Fraction(0)) for j in range(4)
    ]
    consistent = sum(1 for s in itertools.combinations(range(4), 3))  # x_t = x_0 is reached from every 3-set
    return Proof(
        "edit model v1 is not invertible",
        r"\(K \sim \mathrm{Binomial}(t, (V-1)/V)\), e.g. \(t = V = 3\): \(1/27, 2/9, 4/9, 8/27\)",
        [
            *(
                Step(
                    sp.Sum(dd.edit_v1_change_law(tt, V_, k), (k, 0, tt)),
                    1,
                    f"t = {tt}: the law sums to 1 (binomial theorem)",
                    simplifier=lambda e: sp.simplify(e.doit()),
                )
                for tt in range(1, 7)
            ),
            Step(
                Shown(
                    r"\bigl(\#\{\text{changes} = j\}/\#\text{all}\bigr)_{j = 0..3}",
                    sp.Matrix([sp.Rational(c.numerator, c.denominator) for c in counts]),
                ),
                sp.Matrix([dd.edit_v1_change_law(3, 3, j) for j in range(4)]),
                "exact enumeration of all (3-subset, tokens) for l = 4, V = 3, t = 3",
            ),
            Step(
                Shown(r"\#\{S : |S| = 3,\ x_t = x_0\}", sp.Integer(consistent)),
                sp.binomial(4, 3),
                "x_t = x_0 arises from all C(4, 3) edit sets: eps is not a function of (x_0, x_t)",
            ),
        ],
    )


def restore_one_marginal() -> Proof:
    """Edit v2, mask and deletion posteriors (restore / unmask / re-insert one) satisfy the marginal constraint."""
    counting = dd.restore_one_probability(l_, t_)
    kept, other = dd.edit_v2_position_law(l_, t_ - 1, V_)
    return Proof(
        "restore-one posteriors satisfy the marginal constraint",
        r"\(\sum_{x_t} p(x_{t-1}|x_t,x_0)p(x_t|x_0) = p(x_{t-1}|x_0)\) for edit v2, mask and deletion",
        [
            Step(
                counting,
                1 / sp.binomial(l_, t_ - 1),
                "a (t-1)-set lies in l-t+1 t-sets of mass 1/C(l,t), each restoring its missing element w.p. 1/t",
                simplifier=lambda e: sp.simplify(sp.combsimp(e)),
            ),
            Step(
                (l_ - t_ + 1) * (V_ - 1) * dd.edit_v2_forward_probability(l_, t_, V_) / t_,
                dd.edit_v2_forward_probability(l_, t_ - 1, V_),
                "edit v2: x_{t-1} at distance t-1 has (l-t+1)(V-1) predecessors",
                simplifier=lambda e: sp.simplify(sp.combsimp(e)),
            ),
            Step(
                # SymPy adds kept + (V - 1) other to 1 at once; shown as the sum it is.
                Shown(sp.Add(kept, sp.Mul(V_ - 1, other, evaluate=False), evaluate=False), kept + (V_ - 1) * other),
                1,
                "edit v2's law of one position of x_{t-1} (kept, or one of the V-1 other tokens) sums to one",
                simplifier=sp.simplify,
            ),
            Step(
                (l_ - t_ + 1) * dd.mask_forward_probability(l_, t_) / t_,
                dd.mask_forward_probability(l_, t_ - 1),
                "mask: (l-t+1) predecessors",
                simplifier=lambda e: sp.simplify(sp.combsimp(e)),
            ),
            Step(
                Shown(
                    r"\bigl(p(x_{t-1} \mid x_t, x_0)\bigr)_{x_{t-1}}",
                    sp.Matrix(
                        sorted(
                            sp.Rational(p.numerator, p.denominator)
                            for p in dd.posterior_law("mask", (3, 1, 3), (0, 1, 2), 2, 3).values()
                        )
                    ),
                ),
                sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2)]),
                "the mask posterior: each of the t = 2 masked positions is unmasked w.p. 1/2",
            ),
            Step(
                Shown(r"\#\text{mismatches}^{\text{edit v2}}", _mismatches("edit_v2", _small_cases("edit_v2"))),
                0,
                "edit v2, exact enumeration, l = 4, V = 3, t = 1..4: mismatching x_{t-1}",
            ),
            Step(
                Shown(r"\#\text{mismatches}^{\text{mask}}", _mismatches("mask", _small_cases("mask"))),
                0,
                "mask, exact enumeration, l = 4, t = 1..4",
            ),
            Step(
                Shown(r"\#\text{mismatches}^{\text{deletion}}", _mismatches("deletion", _small_cases("deletion"))),
                0,
                "deletion: the deletion set S given (x_0, x_t) is uniform on the consistent sets (uniform prior), and "
                "S minus a uniform element is a uniform (t-1)-set; exact enumeration, x_0 = (0,1,0,1), t = 1..4",
            ),
            Step(
                Shown(r"\#\text{mismatches}^{\text{edit v1}}", _mismatches("edit_v1", _small_cases("edit_v1"))),
                0,
                "edit v1's baseline posterior p(x_{t-1}|x_0), l = 4, V = 3",
            ),
            Step(
                Shown(
                    r"\sum_{i} P(\text{position } i)",
                    sp.Matrix([dd.deletion_position_law(5, 3, i, 1) for i in range(5)]).T * sp.ones(5, 1),
                ),
                sp.Matrix([1]),
                "the position law of a kept element sums to 1 (l = 5, m = 3, j = 1)",
            ),
        ],
        domains={l_: (5, 30, True), t_: (1, 5, True), V_: (2, 9, True)},
    )


def mask_and_absorbing() -> Proof:
    """Su's mask posterior unmasks each masked position w.p. 1/t: D3PM-absorbing's rate at alphabar_t = 1 - t/l."""
    abp, abt = sp.symbols("alphabar_{t-1} alphabar_t", positive=True)
    stay, unmask = dd.absorbing_posterior(abp, abt)
    sabp, sabt = dd.su_mask_alpha_bar(t_ - 1, l_), dd.su_mask_alpha_bar(t_, l_)
    return Proof(
        "mask model vs D3PM absorbing",
        r"\(\frac{\bar\alpha_{t-1}-\bar\alpha_t}{1-\bar\alpha_t} = \frac1t\) at \(\bar\alpha_t = 1 - t/l\); counts differ",
        [
            Step(
                dd.absorbing_posterior(sabp, sabt)[1], 1 / t_, "per-position unmask probability at alphabar_t = 1 - t/l"
            ),
            Step(
                Shown(r"P(\text{stay masked})\big|_{\bar\alpha_t = 1 - t/l}", dd.absorbing_posterior(sabp, sabt)[0]),
                (t_ - 1) / t_,
                "stay masked: (1 - alphabar_{t-1}) / (1 - alphabar_t)",
            ),
            Step(
                Shown(r"(1 - \bar\alpha_t)\, P(\text{stay masked})", (1 - abt) * stay),
                1 - abp,
                r"D3PM absorbing marginal constraint per token: \(P(\text{masked at } t-1)\)",
            ),
            Step(
                Shown(r"(1 - \bar\alpha_t)\, P(\text{unmask}) + \bar\alpha_t", (1 - abt) * unmask + abt),
                abp,
                r"... and \(P(x_{t-1} = x_0)\)",
            ),
            Step(
                Shown(r"1 - \bar\alpha_t^{\text{Su}}", 1 - dd.su_mask_alpha_bar(t_, l_)),
                Shown(r"P(\text{position masked at } t)", dd.mask_position_law(l_, t_)),
                "same per-position mask rate t / l",
            ),
            Step(
                Shown(
                    r"P(2 \text{ masks of } 4)^{\text{D3PM}}",
                    dd.absorbing_mask_count_law(4, dd.su_mask_alpha_bar(2, 4), 2),
                ),
                sp.Rational(3, 8),
                "but D3PM's mask count is Binomial (P(2 masks of 4) = 3/8), Su's is exactly t",
            ),
        ],
        domains={
            l_: (5, 30, True),
            t_: (2, 5, True),
            abp: (sp.Rational(1, 2), sp.Rational(99, 100), False),
            abt: (sp.Rational(1, 100), sp.Rational(1, 2), False),
        },
    )


def d3pm_uniform_constraint() -> Proof:
    """D3PM uniform replacement: the Bayes posterior satisfies the marginal constraint (K = 2, 3, 4, symbolic schedule)."""
    beta, abp = sp.symbols("beta_t alphabar_{t-1}", positive=True)
    steps = []
    for K in (2, 3, 4):
        for j, k in ((0, 0), (1, 0)):
            lhs = sum(
                dd.d3pm_uniform_posterior(j, i, k, K, beta, abp) * dd.d3pm_uniform_marginal(i, k, K, (1 - beta) * abp)
                for i in range(K)
            )
            steps.append(
                Step(
                    lhs,
                    dd.d3pm_uniform_marginal(j, k, K, abp),
                    f"K = {K}, x_0 = {k}, x_(t-1) = {j}: sum over x_t",
                    simplifier=lambda e: sp.simplify(sp.factor(e)),
                )
            )
    steps.append(
        Step(
            Shown(
                r"\#\text{mismatches}^{\text{D3PM uniform}}",
                _mismatches(
                    "d3pm_uniform", [((0, 1, 2), 3, 1, {"alpha_bar_prev": Fraction(2, 3), "beta_t": Fraction(1, 4)})]
                ),
            ),
            0,
            "exact enumeration of three tokens, K = 3",
        )
    )
    return Proof(
        "D3PM uniform posterior",
        r"\(\sum_{x_t} q(x_{t-1}|x_t,x_0)q(x_t|x_0) = \bar\alpha_{t-1}\delta + (1-\bar\alpha_{t-1})/K\)",
        steps,
        domains={
            beta: (sp.Rational(1, 100), sp.Rational(99, 100), False),
            abp: (sp.Rational(1, 100), sp.Rational(99, 100), False),
        },
    )


ALL = (
    conversion_round_trip,
    ho_formulas_in_su_notation,
    hot_marginal_constraint,
    ddpm_and_ddim_reductions,
    exactness_theorem,
    uniform_mixing_fails,
    cold_improved_exact,
    edit_v1_not_invertible,
    restore_one_marginal,
    mask_and_absorbing,
    d3pm_uniform_constraint,
)
