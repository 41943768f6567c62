"""The compiled decoy optimiser and its certificates (§3.3 Eq. 2, S1.2, Proposition 1).

For each mask M and direction s ∈ {+1, −1} the decoy x̃ solves

    maximise ‖((x̃ − x)·s)⁺ ∘ M‖₁  s.t. ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε, x̃ = x outside M,
    x̃ ∈ [x_min, x_max].

Implementation (S1.2), for a whole batch of decoys at once, as one ``tf.while_loop``:

* change of variables: u = (x − x_min)/(x_max − x_min) ∈ [0, 1], ũ = ½(tanh w + 1);
  a per-feature deviation bound |x̃ᵢ − xᵢ| ≤ bᵢ (Proposition 1) narrows [x_min, x_max]
  to [max(x_min, x − b), min(x_max, x + b)], so the bound holds by construction;
* projection: x̃ = ũ-image inside M and exactly x outside M, at every step;
* loss per decoy: −‖((ũ − u)·s)⁺ ∘ M‖₁ + λ·‖(|F_ℓ(x̃) − F_ℓ(x)| − min(τ, ε))⁺‖₂², minimised
  by Adam (capping τ at ε makes every iterate that meets the threshold certifiable);
* start: ũ = u + N(0, σ²) inside M (seeded), so saturated inputs still get gradients;
* τ starts at τ₀ and is multiplied by 0.95 after every step whose penalty is zero; after
  ``patience`` consecutive steps with a non-zero penalty a decoy that has already met the
  bound stops and keeps the last iterate that met it (C&W's schedule, S1.2);
* λ starts at λ₀ and doubles (up to ``lambda_max``) after each step that violates the bound
  while the decoy has not met it yet;
* a step that violates the bound is undone (back to the last iterate that met τ, x itself
  at first, with the τ it met) and that decoy's step size is multiplied by ``backoff``
  (0.5): Adam's steps in tanh space have a fixed size whatever the scale of x and F_ℓ, so
  without this a random start or a first step on 0..255 pixels can overshoot and never
  recover;
* a decoy is **certified** when it equals x outside M, lies in [x_min, x_max] and
  ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε, recomputed after the loop; uncertified decoys are replaced by x
  and reported.

Every decoy has its own τ, λ and stop flag; the loop ends when all have stopped or after
``max_steps``. Only layers 1..ℓ run inside the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class DecoySettings:
    """Optimiser settings (Table S1 defaults: λ₀ = 1e4, τ₀ = 1).

    epsilon: absolute L∞ bound on the layer-ℓ deviation; None → ``epsilon_rel`` ×
    max|F_ℓ(x)|. learning_rate: Adam step on w (tanh space). init_noise: σ of the random
    start in [0, 1] units. patience: consecutive violating steps before a decoy that has
    met the bound stops (1 = the paper's literal rule; 2, the default, lets a decoy retry
    once at half the step after an undone overshoot). backoff: step-size factor after a
    violating step, which is undone (1 = plain Adam, no undo).
    """

    epsilon: float | None = None
    epsilon_rel: float = 0.05
    lambda0: float = 1e4
    lambda_max: float = 1e4 * 2.0 ** 20
    tau0: float = 1.0
    tau_decay: float = 0.95
    max_steps: int = 20
    learning_rate: float = 0.1
    init_noise: float = 0.01
    patience: int = 2
    backoff: float = 0.5

    def __post_init__(self):
        checks = {
            "epsilon": self.epsilon is None or self.epsilon > 0,
            "epsilon_rel": self.epsilon_rel > 0,
            "lambda0": self.lambda0 > 0,
            "lambda_max": self.lambda_max >= self.lambda0,
            "tau0": self.tau0 > 0,
            "tau_decay": 0 < self.tau_decay <= 1,
            "max_steps": int(self.max_steps) >= 1,
            "learning_rate": self.learning_rate > 0,
            "init_noise": self.init_noise >= 0,
            "patience": int(self.patience) >= 1,
            "backoff": 0 < self.backoff <= 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"{bad[0]}: invalid value {getattr(self, bad[0])!r}")


_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8
_EDGE = 1e-6  # keep the start strictly inside (0, 1) so atanh is finite
#: share of ε a reduced-precision loop aims at: bfloat16 keeps 8 bits of mantissa, so F_ℓ
#: moves by ~0.4% of max|F_ℓ| ≈ 8% of the default ε (5% of max|F_ℓ|); 0.8 ε leaves twice that
LOW_PRECISION_MARGIN = 0.8


def per_item_normal(shape, seeds: tf.Tensor) -> tf.Tensor:
    """(k, *shape) standard normal noise, row i drawn from the stateless seed seeds[i]."""
    return tf.map_fn(lambda sd: tf.random.stateless_normal(shape, seed=sd), seeds,
                     fn_output_signature=tf.float32)


def _per_decoy(t: tf.Tensor, op) -> tf.Tensor:
    return op(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def optimise(f_l, x: tf.Tensor, masks: tf.Tensor, signs: tf.Tensor, lo: tf.Tensor,
             hi: tf.Tensor, epsilon: tf.Tensor, seeds: tf.Tensor, settings: DecoySettings,
             f_loop=None, ref: tf.Tensor | None = None,
             ref_loop: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
    """Optimise a batch of decoys of one input (graph-safe; call inside ``tf.function``).

    x: (*S) input; masks: (k, *S) 0/1; signs: (k,) ±1; lo, hi: (*S) legal range, already
    narrowed by any deviation bound; epsilon: scalar L∞ bound at layer ℓ; seeds: (k, 2)
    int32 stateless seeds, one per decoy (so a decoy does not depend on its batch);
    f_loop: F_ℓ for the optimisation loop only (e.g. a bfloat16 copy, ``precision.py``);
    the loop then aims at ``LOW_PRECISION_MARGIN`` · ε, and the certificate always uses
    ``f_l`` (float32) with ε itself; ref: F_ℓ(x) (1, ...) and ref_loop: f_loop(x) as
    float32, if the caller has them already (one per input, not one per chunk).
    Returns ``decoys`` (k, *S) (x where uncertified), ``max_deviation`` (k,)
    ‖F_ℓ(x̃) − F_ℓ(x)‖∞ of the returned decoys, ``certified`` (k,) bool, ``steps`` (k,)
    optimisation steps each decoy ran.
    """
    k = tf.shape(masks)[0]
    width = hi - lo
    movable = tf.cast(width > 0, tf.float32)
    m = masks * movable[None]
    safe = tf.where(width > 0, width, tf.ones_like(width))
    u = tf.clip_by_value((x - lo) / safe, 0.0, 1.0)
    ref = f_l(x[None], training=False) if ref is None else ref
    cert_epsilon = epsilon
    if f_loop is None:
        ref_loop = ref
        f_loop = f_l
    else:  # reduced precision: its rounding error must not eat the certificate
        epsilon = epsilon * LOW_PRECISION_MARGIN
        if ref_loop is None:
            ref_loop = tf.cast(f_loop(x[None], training=False), tf.float32)
    # static rank: keeps the batch size known (a chunk of one decoy stays (1, *S) in the loop)
    bshape = [-1] + [1] * len(x.shape)
    s = tf.reshape(signs, bshape)

    noise = per_item_normal(tf.shape(x), seeds) * settings.init_noise
    u0 = tf.clip_by_value(u[None] + noise * m, _EDGE, 1.0 - _EDGE)
    w0 = tf.atanh(2.0 * u0 - 1.0)
    w_x = tf.broadcast_to(tf.atanh(2.0 * tf.clip_by_value(u, _EDGE, 1.0 - _EDGE) - 1.0)[None],
                          tf.shape(w0))

    def decode(w):
        ut = 0.5 * (tf.tanh(w) + 1.0)
        inside = tf.clip_by_value(lo[None] + ut * width[None], lo[None], hi[None])
        xt = tf.where(m > 0, inside, x[None])
        return ut, xt

    def deviation(xt):
        feat = tf.cast(f_loop(xt, training=False), tf.float32)
        return tf.abs(feat - ref_loop)

    decay = tf.constant(settings.tau_decay, tf.float32)
    patience = tf.constant(int(settings.patience), tf.int32)
    lam_max = tf.constant(settings.lambda_max, tf.float32)
    backoff = tf.constant(settings.backoff, tf.float32)

    def per(v):  # (k,) → broadcastable against (k, *S)
        return tf.reshape(v, bshape)

    def body(step, st):
        w = st["w"]
        with tf.GradientTape() as tape:
            tape.watch(w)
            ut, xt = decode(w)
            d = deviation(xt)
            move = _per_decoy(tf.nn.relu((ut - u[None]) * s) * m, tf.reduce_sum)
            # the penalty's threshold never exceeds ε: a step that meets it is certifiable
            tau_eff = tf.minimum(st["tau"], epsilon)
            tau_b = tf.reshape(tau_eff, tf.concat([[k], tf.ones([tf.rank(d) - 1], tf.int32)],
                                                  0))
            pen = _per_decoy(tf.square(tf.nn.relu(d - tau_b)), tf.reduce_sum)
            loss = tf.reduce_sum(tf.cast(st["active"], tf.float32) * (-move + st["lam"] * pen))
        g = tape.gradient(loss, w)
        active = st["active"]
        dev = _per_decoy(d, tf.reduce_max)
        ok = pen <= 0.0
        good = active & ok & (dev <= epsilon)
        best = tf.where(per(good), xt, st["best"])
        has_best = st["has_best"] | good
        strikes = tf.where(ok, tf.zeros_like(st["strikes"]), st["strikes"] + 1)
        tau = tf.where(active & ok, st["tau"] * decay, st["tau"])
        lam = tf.where(active & ~ok & ~has_best, tf.minimum(st["lam"] * 2.0, lam_max), st["lam"])
        steps = st["steps"] + tf.cast(active, tf.int32)
        active = active & ~(has_best & (strikes >= patience))
        # a violating step is undone (back to the last iterate that met τ) and the step
        # size of that decoy shrinks: keeps the schedule scale-free (pixels 0..1 or 0..255)
        last_w = tf.where(per(ok), w, st["last_w"])
        last_tau = tf.where(ok, st["tau"], st["last_tau"])
        has_ok = st["has_ok"] | ok
        undo = ~ok & has_ok & (backoff < 1.0)
        w = tf.where(per(undo), st["last_w"], w)
        tau = tf.where(undo, st["last_tau"], tau)  # the restored iterate met this τ
        lr = tf.where(~ok, st["lr"] * backoff, st["lr"])
        # Adam, frozen for stopped decoys
        t = tf.cast(step + 1, tf.float32)
        a = per(tf.cast(active, tf.float32))
        m1 = st["m1"] + a * (1.0 - _ADAM_B1) * (g - st["m1"])
        m2 = st["m2"] + a * (1.0 - _ADAM_B2) * (tf.square(g) - st["m2"])
        mhat = m1 / (1.0 - _ADAM_B1 ** t)
        vhat = m2 / (1.0 - _ADAM_B2 ** t)
        w = w - a * per(lr) * mhat / (tf.sqrt(vhat) + _ADAM_EPS)
        return step + 1, {"w": w, "m1": m1, "m2": m2, "tau": tau, "lam": lam,
                          "active": active, "best": best, "has_best": has_best,
                          "strikes": strikes, "steps": steps, "last_w": last_w,
                          "has_ok": has_ok, "lr": lr, "last_tau": last_tau}

    def cond(step, st):
        return (step < settings.max_steps) & tf.reduce_any(st["active"])

    init = {
        "w": w0, "m1": tf.zeros_like(w0), "m2": tf.zeros_like(w0),
        "tau": tf.fill([k], tf.constant(settings.tau0, tf.float32)),
        "lam": tf.fill([k], tf.constant(settings.lambda0, tf.float32)),
        "active": tf.ones([k], tf.bool),
        "best": tf.broadcast_to(x[None], tf.shape(masks)),
        "has_best": tf.zeros([k], tf.bool),
        "strikes": tf.zeros([k], tf.int32),
        "steps": tf.zeros([k], tf.int32),
        # x itself meets every τ > 0: the first fallback of a violating start
        "last_w": w_x,
        "has_ok": tf.fill([k], backoff < 1.0),
        "last_tau": tf.fill([k], tf.constant(settings.tau0, tf.float32)),
        "lr": tf.fill([k], tf.constant(settings.learning_rate, tf.float32)),
    }
    _, out = tf.while_loop(cond, body, (tf.constant(0), init))
    best, has_best, steps = out["best"], out["has_best"], out["steps"]
    return certify(f_l, x, masks, best, has_best, lo, hi, cert_epsilon, ref, steps)


def certify(f_l, x, masks, decoys, candidate, lo, hi, epsilon, ref, steps
            ) -> dict[str, tf.Tensor]:
    """Recompute each decoy's certificate; replace the uncertified ones by x.

    Checks: x̃ == x exactly where the mask is 0; lo ≤ x̃ ≤ hi; ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε.
    """
    outside_equal = _per_decoy(tf.where(masks > 0, tf.zeros_like(decoys),
                                        tf.abs(decoys - x[None])), tf.reduce_max) == 0.0
    in_range = _per_decoy(tf.cast((decoys < lo[None]) | (decoys > hi[None]), tf.float32),
                          tf.reduce_max) == 0.0
    dev = _per_decoy(tf.abs(f_l(decoys, training=False) - ref), tf.reduce_max)
    certified = candidate & outside_equal & in_range & (dev <= epsilon)
    bshape = tf.concat([[tf.shape(masks)[0]], tf.ones([tf.rank(x)], tf.int32)], 0)
    final = tf.where(tf.reshape(certified, bshape), decoys, x[None])
    final_dev = tf.where(certified, dev, tf.zeros_like(dev))
    return {"decoys": final, "max_deviation": final_dev, "certified": certified,
            "steps": steps, "raw_deviation": dev}
