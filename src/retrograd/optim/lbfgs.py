"""L-BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., algorithms 7.4/7.5) with an
optional line search for the strong Wolfe conditions (algorithms 3.5/3.6, cubic
interpolation as in section 3.5), on the parameters flattened into one NumPy/CuPy vector.

Scalars (``gtd``, ``t``, ``ro``...) stay array scalars of the parameters' dtype, so float32
problems round in float32 throughout, as PyTorch's 0-d tensors do. The step counts, the
sufficient-decrease tests and the safeguards follow PyTorch's documented behaviour closely
enough that ``n_iter``, ``func_evals`` and the iterates agree with it on the same problem.
"""

from __future__ import annotations

from .._tensor import Tensor, wrap
from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import xp
from ..ops.inplace import bump_version
from .optimizer import Optimizer, _as_real, value

__all__ = ["LBFGS"]


def _profile(point):
    """A line-search point ``(t, loss, flat grad, slope)`` as the cubic fit needs it."""
    return point[0], point[1], point[3]


def _cubic_minimizer(p, q, lo=None, hi=None):
    """The minimizer of the cubic matching value and slope at points ``p`` and ``q`` (each
    ``(t, f, slope)``), clipped to ``[lo, hi]`` (default: between the points). Without a
    real minimizer, the middle of the interval."""
    if p[0] > q[0]:
        p, q = q, p  # one formula for the ordered pair
    (a, fa, ga), (b, fb, gb) = p, q
    if lo is None:
        lo, hi = a, b
    d1 = ga + gb - 3 * (fa - fb) / (a - b)
    disc = d1**2 - ga * gb
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = disc**0.5  # ** keeps float32 scalars in float32 (math.sqrt would not)
    t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2))
    return min(max(t, lo), hi)


def _strong_wolfe(evaluate, t, d, f0, g0, slope0, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step ``t`` along ``d`` with sufficient decrease (``c1``) and a small slope
    (``c2``). Returns (loss, flat grad, t, evaluations)."""

    def sufficient(t, f):
        return f <= f0 + c1 * t * slope0

    def flat_enough(slope):
        return abs(slope) <= -c2 * slope0

    def trial(t):
        f, g = evaluate(t)
        return (t, f, g, g.dot(d))

    # Bracketing: grow the step until an interval is known to hold an acceptable one.
    prev, cur = (0, f0, g0, slope0), trial(t)
    evals, tries = 1, 0
    found = False
    while tries < max_ls:
        if not sufficient(cur[0], cur[1]) or (tries > 1 and cur[1] >= prev[1]):
            bracket = [prev, cur]
            break
        if flat_enough(cur[3]):
            bracket, found = [cur], True
            break
        if cur[3] >= 0:
            bracket = [prev, cur]
            break
        # extrapolate: at least 1% past the current step, at most 10 times it
        nxt = _cubic_minimizer(_profile(prev), _profile(cur),
                               cur[0] + 0.01 * (cur[0] - prev[0]), cur[0] * 10)
        prev, cur = cur, trial(nxt)
        evals += 1
        tries += 1
    if tries >= max_ls:  # out of evaluations: the better of the start and the last trial
        bracket = [(0, f0, g0, slope0), cur]

    # Zoom: shrink the bracket; `low` is the end with the smaller loss.
    d_norm = abs(d).max()
    low = 0 if bracket[0][1] <= bracket[-1][1] else 1
    stuck = False  # the previous trial also landed near an end of the bracket
    while not found and tries < max_ls:
        ends = (bracket[0][0], bracket[1][0])
        left, right = min(ends), max(ends)
        if abs(ends[1] - ends[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimizer(_profile(bracket[0]), _profile(bracket[1]))
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            # near an end twice in a row (or outside): step a tenth of the way in instead
            if stuck or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                stuck = False
            else:
                stuck = True
        else:
            stuck = False
        cur = trial(t)
        evals += 1
        tries += 1
        high = 1 - low
        if not sufficient(cur[0], cur[1]) or cur[1] >= bracket[low][1]:
            bracket[high] = cur
            low = 0 if bracket[0][1] <= bracket[1][1] else 1
            continue
        if flat_enough(cur[3]):
            found = True
        elif cur[3] * (bracket[high][0] - bracket[low][0]) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = cur
    best = bracket[low]
    return best[1], best[2], best[0], evals


def _raw(v):
    """State as kept by the algorithm: Tensors back to arrays (also inside lists)."""
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, list):
        return [_raw(i) for i in v]
    return v


def _tensor(v):
    """State as shown in ``state``/``state_dict``: arrays and array scalars as Tensors."""
    if isinstance(v, list):
        return [_tensor(i) for i in v]
    if hasattr(v, "dtype") and hasattr(v, "shape"):
        return wrap(xp(v).asarray(v))
    return v


_HISTORY_KEYS = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


class LBFGS(Optimizer):
    """``torch.optim.LBFGS``: limited-memory BFGS; ``step(closure)`` runs up to ``max_iter``
    iterations, each re-evaluating the closure (which must zero grads, compute the loss,
    call backward and return the loss). Only one parameter group is supported; the state
    (curvature history, counters) is global and kept under the first parameter.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not value(lr) >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, max_iter=max_iter,
                        max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # -- the parameters as one flat vector ------------------------------------------------

    def _flat_grad(self):
        m = xp(self._params[0]._data)
        parts = []
        for p in self._params:
            g = m.zeros(p._data.shape, p._data.dtype) if p._grad is None else p._grad._data
            parts.append(_as_real(m.ascontiguousarray(g)).reshape(-1))
        return m.concatenate(parts, 0)

    def _move(self, t, d) -> None:
        """``params += t * d``; complex parameters move as (re, im) pairs, as PyTorch's."""
        start = 0
        for p in self._params:
            x = _as_real(p._data)
            x += t * d[start:start + x.size].reshape(x.shape)
            start += x.size
            bump_version(p)

    def _snapshot(self):
        return [p._data.copy() for p in self._params]

    def _restore(self, saved) -> None:
        for p, data in zip(self._params, saved):
            p._data[...] = data
            bump_version(p)

    def _loss_and_grad(self, closure):
        with enable_grad():
            loss = closure()
        return loss, self._flat_grad()

    # -- the algorithm ------------------------------------------------------------------

    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the closure's first loss."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model")
        with no_grad():
            return self._run(closure)

    @staticmethod
    def _direction(grad, hist: dict, history_size: int):
        """``-H grad`` by the two-loop recursion over the stored (y, s) pairs, with the
        initial inverse Hessian ``H_diag * I``."""
        dirs, steps, ro = hist["old_dirs"], hist["old_stps"], hist["ro"]
        if hist["al"] is None:
            hist["al"] = [None] * history_size
        alpha = hist["al"]
        q = -grad
        for i in reversed(range(len(dirs))):
            alpha[i] = steps[i].dot(q) * ro[i]
            q += -alpha[i] * dirs[i]
        r = q * hist["H_diag"]
        for i in range(len(dirs)):
            beta = dirs[i].dot(r) * ro[i]
            r += (alpha[i] - beta) * steps[i]
        return r

    @staticmethod
    def _remember(hist: dict, y, s, history_size: int) -> None:
        """Store a curvature pair if it keeps H positive definite (y.s > 0, with margin)."""
        ys = y.dot(s)
        if ys <= 1e-10:
            return
        if len(hist["old_dirs"]) == history_size:
            for key in ("old_dirs", "old_stps", "ro"):
                del hist[key][0]
        hist["old_dirs"].append(y)
        hist["old_stps"].append(s)
        hist["ro"].append(1.0 / ys)
        hist["H_diag"] = ys / y.dot(y)

    def _run(self, closure):
        group = self.param_groups[0]
        lr = value(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        search, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss, grad = self._loss_and_grad(closure)
        loss = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        if abs(grad).max() <= tol_grad:  # already at a stationary point
            return first_loss

        hist = {k: _raw(state.get(k)) for k in _HISTORY_KEYS}
        prev_loss = state.get("prev_loss")
        for it in range(1, max_iter + 1):
            state["n_iter"] += 1
            fresh = state["n_iter"] == 1
            if fresh:
                hist.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
                d = -grad
            else:
                self._remember(hist, grad - hist["prev_flat_grad"], hist["d"] * hist["t"],
                               history_size)
                d = self._direction(grad, hist, history_size)
            hist["prev_flat_grad"] = grad.copy()
            prev_loss = loss
            # the very first step is scaled down by the gradient's size: no curvature yet
            t = min(1.0, 1.0 / abs(grad).sum()) * lr if fresh else lr
            hist["d"], hist["t"] = d, t
            slope = grad.dot(d)
            if slope > -tol_change:  # not a descent direction any more
                break

            converged, used = False, 0
            if search is not None:
                if search != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                start = self._snapshot()

                def along(step, start=start, d=d):
                    self._move(step, d)
                    f, g = self._loss_and_grad(closure)
                    self._restore(start)
                    return float(f), g

                loss, grad, t, used = _strong_wolfe(along, t, d, loss, grad, slope,
                                                    max_ls=max_eval - evals)
                hist["t"] = t
                self._move(t, d)
                converged = abs(grad).max() <= tol_grad
            else:
                self._move(t, d)
                if it != max_iter:  # the last iteration's loss would go unused
                    f, grad = self._loss_and_grad(closure)
                    loss, used = float(f), 1
                    converged = abs(grad).max() <= tol_grad
            evals += used
            state["func_evals"] += used

            if it == max_iter or evals >= max_eval or converged:
                break
            if abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break  # no progress in the parameters or in the loss

        for k, v in hist.items():
            if v is not None:
                state[k] = _tensor(v)
        state["prev_loss"] = prev_loss
        return first_loss
