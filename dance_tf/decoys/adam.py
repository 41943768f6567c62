"""The paper's decoy solver, literally: Adam in tanh space with the C&W schedule (S1.2).

``solver="adam"``. Loss per decoy: −‖((ũ − u)·s)⁺ ∘ M‖₁ + λ·‖(|F_ℓ(x̃) − F_ℓ(x)| − min(τ, ε))⁺‖₂²
with ũ = ½(tanh w + 1) (u: x scaled to [0, 1] by the value range), minimised by Adam:

* start: ũ = u + |N(0, σ²)|·s inside M (seeded; one-sided, see below), so saturated inputs
  still get gradients (the SmoothGrad insight of S1.2);
* projection: x̃ = the ũ-image inside M and exactly x outside M, at every step;
* τ starts at τ₀ and is multiplied by 0.95 after every step whose penalty is zero; after
  ``patience`` consecutive steps with a non-zero penalty a decoy that has already met the
  bound stops and keeps the last iterate that met it (capping τ at ε makes every iterate
  that meets the threshold certifiable);
* λ starts at λ₀ and doubles (up to ``lambda_max``) after each step that violates the bound
  while the decoy has not met it yet;
* a step that violates the bound is undone (back to the last iterate that met τ, x itself at
  first) and that decoy's step size is multiplied by ``backoff``; ``patience=1, backoff=1``
  is the paper's rule to the letter.

The start is one-sided (|noise|·s) rather than symmetric: with a symmetric start, features
that begin on the wrong side of x see a zero gradient of the objective and, inside τ, of the
penalty, so they never move (measured: s = +1 decoys ended below x). Adam may still move
single features against s when the penalty asks for it; ``Explanation.against`` reports
that share. The loop stops when every decoy has stopped or after ``max_steps``.
"""

from __future__ import annotations

import tensorflow as tf

_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8
_EDGE = 1e-6  # keep the start strictly inside (0, 1) so atanh is finite


def per_item_normal(shape, seeds: tf.Tensor) -> tf.Tensor:
    """(k, *shape) standard normal noise, row i drawn from the stateless seed seeds[i]."""
    return tf.map_fn(lambda sd: tf.random.stateless_normal(shape, seed=sd), seeds,
                     fn_output_signature=tf.float32)


def _per_decoy(t: tf.Tensor, op) -> tf.Tensor:
    return op(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def solve(deviation, x, m, s, lo, hi, epsilon, seeds, settings):
    """Decoys by the S1.2 schedule (see the module docstring).

    deviation(points (k, *S)) → |F_ℓ(points) − F_ℓ(x)| at layer ℓ, float32; x, lo, hi:
    (k, *S), or (1, *S) when every decoy shares its input; m: (k, *S) 0/1 masks of movable
    features; s: (k, 1, ..., 1) ±1; epsilon: (k,) or scalar (with any precision margin);
    seeds: (k, 2) int32 stateless seeds.
    Returns (the last iterate of each decoy that met the bound, x where none did (k, *S);
    whether one did (k,) bool; steps run (k,) int32).
    """
    k = tf.shape(m)[0]
    width = hi - lo
    safe = tf.where(width > 0, width, tf.ones_like(width))
    u = tf.clip_by_value((x - lo) / safe, 0.0, 1.0)
    bshape = [-1] + [1] * (len(x.shape) - 1)
    # one-sided start: |N(0, σ²)|·s inside M, so no feature starts on the wrong side of x
    # (the objective's gradient is zero there and the penalty is zero inside τ: it would
    # never move)
    noise = tf.abs(per_item_normal(tf.shape(x)[1:], seeds)) * settings.init_noise * s
    u0 = tf.clip_by_value(u + noise * m, _EDGE, 1.0 - _EDGE)
    w0 = tf.atanh(2.0 * u0 - 1.0)
    w_x = tf.broadcast_to(tf.atanh(2.0 * tf.clip_by_value(u, _EDGE, 1.0 - _EDGE) - 1.0),
                          tf.shape(w0))

    def decode(w):
        ut = 0.5 * (tf.tanh(w) + 1.0)
        inside = tf.clip_by_value(lo + ut * width, lo, hi)
        xt = tf.where(m > 0, inside, tf.broadcast_to(x, tf.shape(inside)))
        return ut, xt

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
            move = _per_decoy(tf.nn.relu((ut - u) * s) * m, tf.reduce_sum)
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
        "best": tf.broadcast_to(x, tf.shape(m)),
        "has_best": tf.zeros([k], tf.bool),
        "strikes": tf.zeros([k], tf.int32),
        "steps": tf.zeros([k], tf.int32),
        # x itself meets every τ > 0: the first fallback of a violating start
        "last_w": w_x,
        "has_ok": tf.fill([k], backoff < 1.0),
        "last_tau": tf.fill([k], tf.constant(settings.tau0, tf.float32)),
        "lr": tf.fill([k], tf.constant(settings.learning_rate, tf.float32)),
    }
    _, out = tf.while_loop(cond, body, (tf.constant(0), init), parallel_iterations=1)
    return out["best"], out["has_best"], out["steps"]
