"""The checks of notebook 08's exercises: batch normalization's forward and backward passes, the
running averages, and the test-time normalization.

A test cell passes the learner's function and its own case, e.g.::

    batch = known_batch(seed=801)
    Z_tilde, cache = checked_forward(batchnorm_forward, batch, epsilon=1e-8)
    check_batch_statistics(cache, batch)

and each function here checks one property and fails with a sentence that names the mistake.
Nothing here normalizes a batch with its own statistics or averages statistics: the test's
mini-batch is *built* with known statistics (``known_batch``: Z = μ + σ U, each row of U with
mean 0 and variance 1 exactly), so the expected values are known without computing them the way
the exercises do; the backward pass is judged by properties of its gradients (dZ's rows sum to
0 and are orthogonal to Ẑ's; a dZ̃ that moves neither μ nor σ² keeps only the direct path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers.checks import Snapshot, as_array, check, function_name, shares_memory

FORWARD_HINTS = {"ValueError": "arrays of shape (n, 1), one value per unit (μ and σ² with "
                 "keepdims=True, γ and β as given), broadcast over the m columns of Z; a flattened "
                 "(n,) or transposed (1, n) one does not, and γ multiplies element-wise (*, not @)"}
BACKWARD_HINTS = {"KeyError": "the cache holds exactly the keys 'Z', 'Z_hat', 'mu', 'var', "
                  "'gamma' and 'epsilon' (batchnorm_forward's docstring): read those"}
INFERENCE_HINTS = {"ValueError": "running_mean, running_var, γ and β have shape (n, 1), one value "
                   "per unit, and broadcast over the m columns of Z as they are (not flattened "
                   "or transposed; γ multiplies element-wise, *, not @)"}


def _returned(fn: Callable, args: tuple, names: tuple[str, ...]) -> tuple:
    """fn(*args), checked to be a tuple of len(names) things."""
    out = fn(*args)
    check(isinstance(out, tuple) and len(out) == len(names),
          f"{function_name(fn)} must return ({', '.join(names)})")
    return out


# ---------------------------------------------------------------- a batch of known statistics
def standardized_rows(n: int, m: int, rng: np.random.Generator,
                      rows: slice = slice(1, None)) -> np.ndarray:
    """n rows of m values (m a power of 2) whose mean is exactly 0 and variance exactly 1 (up to
    rounding), by construction: mixes of the orthogonal ±1 rows of a Hadamard matrix (its row 0,
    all ones, is never used). Rows mixed from disjoint sets of ``rows`` are orthogonal. -> (n, m)"""
    H = np.ones((1, 1))
    while H.shape[0] < m:
        H = np.block([[H, H], [H, -H]])
    C = rng.standard_normal((n, H[rows].shape[0]))
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    return C @ H[rows]


def cache_for(U: np.ndarray, mu: np.ndarray, sd: np.ndarray, gamma: np.ndarray,
              epsilon: float) -> dict:
    """The cache batchnorm_forward makes for Z = mu + sd U (U of standardized rows): known from
    the construction, Ẑ = U sd / sqrt(sd² + ε), var = sd². U (n, m); mu, sd, gamma (n, 1)."""
    return {"Z": mu + sd * U, "Z_hat": U * sd / np.sqrt(sd ** 2 + epsilon), "mu": mu,
            "var": sd ** 2, "gamma": gamma, "epsilon": epsilon}


@dataclass(frozen=True)
class Batch:
    """A mini-batch of 3 units and 8 examples whose statistics are known by construction.

    Z (3, 8) = mu + sd U, with U (3, 8) of standardized rows; mu, sd (3, 1) each unit's mean and
    standard deviation over the batch; gamma, beta (3, 1) a scale and shift; G (3, 8) an upstream
    gradient dZ_tilde (of the cost J = sum(G * Z_tilde)); seed the seed it was drawn from.
    """

    Z: np.ndarray
    U: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    G: np.ndarray
    seed: int

    def cache(self, epsilon: float) -> dict:
        """The cache batchnorm_forward makes for this batch and ε (see ``cache_for``)."""
        return cache_for(self.U, self.mu, self.sd, self.gamma, epsilon)


def known_batch(seed: int) -> Batch:
    """Units of means (2, -1, 0.5) and standard deviations (3, 0.5, 1.5), γ = (1.5, 0.5, -2)
    (one negative), β = (0.3, -1, 2); the patterns U and the gradient G drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    U = standardized_rows(3, 8, rng)
    mu, sd = np.array([[2.0], [-1.0], [0.5]]), np.array([[3.0], [0.5], [1.5]])
    return Batch(Z=mu + sd * U, U=U, mu=mu, sd=sd, gamma=np.array([[1.5], [0.5], [-2.0]]),
                 beta=np.array([[0.3], [-1.0], [2.0]]), G=rng.standard_normal((3, 8)), seed=seed)


# ---------------------------------------------------------------- batchnorm_forward
def forward_outputs(batchnorm_forward: Callable, Z: np.ndarray, gamma: np.ndarray,
                    beta: np.ndarray, epsilon: float) -> tuple[np.ndarray, dict]:
    """batchnorm_forward(Z, gamma, beta, epsilon) as (Z_tilde as floats, cache), once their
    form is right (a cache dict holding "mu" and "var")."""
    Z_tilde, cache = _returned(batchnorm_forward, (Z, gamma, beta, epsilon), ("Z_tilde", "cache"))
    check(isinstance(cache, dict) and "mu" in cache and "var" in cache,
          "the cache must be a dict holding the batch statistics under 'mu' and 'var' (the "
          "cell's last lines build it for you: keep them)")
    return as_array(Z_tilde, "Z_tilde"), cache


def checked_forward(batchnorm_forward: Callable, batch: Batch,
                    epsilon: float) -> tuple[np.ndarray, dict]:
    """``forward_outputs`` on the batch: Z_tilde of Z's shape, Z, gamma and beta unchanged."""
    args = Snapshot(Z=batch.Z, gamma=batch.gamma, beta=batch.beta)
    Z_tilde, cache = forward_outputs(batchnorm_forward, batch.Z, batch.gamma, batch.beta, epsilon)
    check(Z_tilde.shape == batch.Z.shape,
          f"Z_tilde must have Z's shape {batch.Z.shape}, got {Z_tilde.shape}")
    args.check_unchanged("batchnorm_forward", "it was mutated in place (e.g. Z -= mu): compute "
                         "new arrays instead")
    return Z_tilde, cache


def check_batch_statistics(cache: Mapping, batch: Batch) -> None:
    """cache["mu"] and cache["var"] (n, 1) are each unit's mean and variance (with 1/m) of Z
    over the batch's examples; names the wrong axis, γ/β applied first, and ddof=1."""
    mu, var = as_array(cache["mu"], "cache['mu']"), as_array(cache["var"], "cache['var']")
    n, m = batch.Z.shape
    check(mu.shape == (n, 1) and var.shape == (n, 1),
          f"mu and var must hold one value per unit, shape (n, 1) = {(n, 1)}; got {mu.shape} and "
          f"{var.shape}. Statistics over the wrong axis? Average each row (unit) over the m "
          "examples (the columns: axis=1), keeping a column (keepdims=True)")
    check(not np.allclose(mu, batch.gamma * batch.mu + batch.beta),
          "mu is the mean of γ Z + β, not of Z: γ and β are applied before normalizing (the "
          "normalization then cancels them). Normalize Z first, then Z_tilde = γ Ẑ + β")
    check(np.allclose(mu, batch.mu),
          f"mu must be each unit's mean over the batch, {batch.mu.ravel()}; got {mu.ravel()}")
    check(not np.allclose(var, batch.sd ** 2 * m / (m - 1)),
          "var is the unbiased variance (ddof=1, dividing by m - 1): batch norm divides by m, "
          "the mean of the squared deviations")
    check(np.allclose(var, batch.sd ** 2), f"var must be each unit's variance over the batch, "
          f"{(batch.sd ** 2).ravel()}; got {var.ravel()}")


def check_epsilon_inside_root(batchnorm_forward: Callable, batch: Batch,
                              epsilon: float = 0.25) -> None:
    """With γ = 1, β = 0 and a large ε, a row of standard deviation σ comes out with the
    standard deviation σ / sqrt(σ² + ε)."""
    ones, zeros = np.ones_like(batch.gamma), np.zeros_like(batch.beta)
    out, cache = forward_outputs(batchnorm_forward, batch.Z, ones, zeros, epsilon)
    check(not np.allclose(out, 1.0), "with γ = 1 and β = 0 every value of Z_tilde is 1: γ and β "
          "are swapped. Z_tilde = γ Ẑ + β (γ multiplies, β is added)")
    check(np.allclose(out.mean(axis=1), 0, atol=1e-6), "with γ = 1 and β = 0 each row of Z_tilde "
          f"must have mean 0, got {np.round(out.mean(axis=1), 4)}: subtract each unit's mean, "
          "then Z_tilde = γ Ẑ + β")
    check(not np.allclose(as_array(cache["var"], "cache['var']"), batch.sd ** 2 + epsilon),
          "cache['var'] holds σ² + ε: keep the variance σ² itself in var (the backward pass adds "
          "ε again); ε is added only inside the square root")
    got, sd = out.std(axis=1, keepdims=True), batch.sd
    check(not np.allclose(got, sd / (sd ** 2 + epsilon)), "Z - μ is divided by σ² + ε, the "
          "variance: divide by its square root, sqrt(σ² + ε), the standard deviation")
    check(not np.allclose(got, sd / (sd + epsilon)),
          "ε is outside the square root: divide by sqrt(σ² + ε), not by sqrt(σ²) + ε")
    want = sd / np.sqrt(sd ** 2 + epsilon)
    check(np.allclose(got, want), f"with epsilon = {epsilon}, rows of standard deviation "
          f"{sd.ravel()} should come out with {np.round(want.ravel(), 4)}, got "
          f"{np.round(got.ravel(), 4)}: use the epsilon argument, inside the square root")


def check_gamma_beta_applied(Z_tilde: np.ndarray, batch: Batch,
                             cache: Mapping | None = None) -> None:
    """Z_tilde (n, m), made with a tiny ε, is γ Ẑ + β: each row has mean β and standard
    deviation |γ| (Ẑ is the batch's U); and the cache of that call still holds Ẑ."""
    U, gamma, beta = batch.U, batch.gamma, batch.beta
    check(not (np.allclose(Z_tilde, U, atol=1e-6) or np.allclose(Z_tilde, np.sign(gamma) * U,
                                                                 atol=1e-6)),
          "Z_tilde is the normalized Ẑ itself (each row mean 0, variance 1): γ and β are not "
          "applied, or applied before normalizing (the normalization then cancels them). "
          "Normalize first, then Z_tilde = γ Ẑ + β")
    check(np.allclose(Z_tilde, gamma * U + beta, atol=1e-6),
          "Z_tilde is not γ Ẑ + β: each row should have mean β and standard deviation |γ| "
          f"(β = {beta.ravel()}, γ = {gamma.ravel()}), got means "
          f"{np.round(Z_tilde.mean(axis=1), 3)} and standard deviations "
          f"{np.round(Z_tilde.std(axis=1), 3)}")
    if cache is not None:
        kept = cache.get("Z_hat")
        Z_hat = as_array(kept, "cache['Z_hat']")
        check(np.allclose(Z_hat, U, atol=1e-6) or not shares_memory(kept, Z_tilde),
              "Z_tilde and cache['Z_hat'] are the same array: Ẑ was changed in place into γ Ẑ + "
              "β (e.g. Z_tilde = Z_hat; Z_tilde *= gamma), so the cache no longer holds Ẑ for the "
              "backward pass. Compute Z_tilde = gamma * Z_hat + beta as a new array")
        check(Z_hat.shape == U.shape and np.allclose(Z_hat, U, atol=1e-6),
              "cache['Z_hat'] must hold Ẑ = (Z - μ) / sqrt(σ² + ε) (each row of mean 0 and "
              "standard deviation 1), which the backward pass uses; your Z_tilde is right but the "
              "Z_hat you keep is not Ẑ: store Ẑ itself in Z_hat (not Z - μ, nor changed "
              "afterwards) and compute Z_tilde as a new array")


# ---------------------------------------------------------------- batchnorm_backward
def backward_outputs(batchnorm_backward: Callable, dZ_tilde: np.ndarray,
                     cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """batchnorm_backward(dZ_tilde, cache) as (dZ, dgamma, dbeta) float arrays."""
    out = _returned(batchnorm_backward, (dZ_tilde, cache), ("dZ", "dgamma", "dbeta"))
    dZ, dgamma, dbeta = (as_array(x, name) for x, name in zip(out, ("dZ", "dgamma", "dbeta")))
    return dZ, dgamma, dbeta


def checked_backward(batchnorm_backward: Callable, dZ_tilde: np.ndarray,
                     cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``backward_outputs``, with dZ of Z's shape (n, m), dgamma and dbeta of shape (n, 1),
    and dZ_tilde and the cache's arrays unchanged."""
    args = Snapshot(dZ_tilde=dZ_tilde, cache=cache)
    dZ, dgamma, dbeta = backward_outputs(batchnorm_backward, dZ_tilde, cache)
    args.check_unchanged("batchnorm_backward", "it was mutated in place: compute new arrays "
                         "instead")
    n, m = np.shape(dZ_tilde)
    check(dZ.shape == (n, m), f"dZ must have Z's shape {(n, m)}, got {dZ.shape}")
    check(not (dgamma.shape == (n,) or dbeta.shape == (n,)),
          f"dgamma and dbeta must have shape (n, 1) = {(n, 1)}, got {dgamma.shape} and "
          f"{dbeta.shape}: keep a column with keepdims=True")
    check(dgamma.shape == (n, 1) and dbeta.shape == (n, 1),
          f"dgamma and dbeta must have shape (n, 1) = {(n, 1)}, one per unit, got {dgamma.shape} "
          f"and {dbeta.shape}: they are summed over the wrong axis — sum over the examples "
          "(axis=1, keepdims=True)")
    return dZ, dgamma, dbeta


def check_dgamma_dbeta(batchnorm_backward: Callable, cache: dict) -> None:
    """dgamma and dbeta for two upstream gradients with known answers: J = sum(Z_tilde)
    (dZ_tilde all ones) grows by m when a unit's β grows by 1 and does not change with γ (Ẑ
    sums to 0); J = sum(Ẑ Z_tilde) (dZ_tilde = Ẑ) grows by sum(Ẑ²) = m σ²/(σ² + ε) with γ, not
    with β. The cache is one of ``cache_for``."""
    Z_hat, var, eps = cache["Z_hat"], cache["var"], cache["epsilon"]
    m = Z_hat.shape[1]
    _, dg_1, db_1 = backward_outputs(batchnorm_backward, np.ones_like(Z_hat), cache)
    _, dg_h, db_h = backward_outputs(batchnorm_backward, Z_hat.copy(), cache)
    check(not (np.allclose(dg_1, m) and np.allclose(db_h, m * var / (var + eps))),
          "dgamma and dbeta are swapped: dβ adds up dZ_tilde over the examples, dγ adds up "
          "dZ_tilde * Z_hat")
    check(np.allclose(db_1, m) and np.allclose(db_h, 0, atol=1e-9),
          f"dbeta is wrong: with dZ_tilde all ones (J = the sum of Z_tilde, which grows by m = "
          f"{m} when a unit's β grows by 1) each unit's dβ must be {m}, got "
          f"{np.round(db_1.ravel(), 4)}; each unit's dβ adds up its dZ_tilde over the examples "
          "of the batch")
    check(np.allclose(dg_h, m * var / (var + eps)) and np.allclose(dg_1, 0, atol=1e-9),
          f"dgamma is wrong: with dZ_tilde = Z_hat each unit's dγ must be the sum of Ẑ², about "
          f"m = {m}, got {np.round(dg_h.ravel(), 4)}; and with dZ_tilde all ones it must be 0 "
          f"(Ẑ sums to 0), got {np.round(dg_1.ravel(), 4)}. Each unit's dγ adds up "
          "dZ_tilde * Z_hat over the examples (cache['Z_hat'], not cache['Z'])")


def direct_path(dZ_tilde: np.ndarray, gamma: np.ndarray, sigma2: np.ndarray,
                epsilon: float) -> np.ndarray:
    """γ dZ_tilde / sqrt(σ² + ε): the part of dZ that goes through Ẑ alone, all of dZ for a
    dZ_tilde that moves neither μ nor σ², and the classic mistake for any other. (n, m)"""
    return gamma * dZ_tilde / np.sqrt(sigma2 + epsilon)


def check_paths_through_mu_and_var(dZ: np.ndarray, dZ_tilde: np.ndarray, cache: dict) -> None:
    """dZ (n, m) for dZ_tilde (n, m): not only the direct path γ dZ_tilde / sqrt(σ² + ε); each
    row sums to 0 (the path through μ) and is orthogonal to that row of Ẑ (through σ²)."""
    Z_hat = cache["Z_hat"]
    check(not np.allclose(dZ, direct_path(dZ_tilde, cache["gamma"], cache["var"],
                                          cache["epsilon"])),
          "dZ keeps only γ/sqrt(σ² + ε) * dZ_tilde: it forgets the paths through μ and σ², which "
          "depend on every z of the batch. Add their terms (see the formulas above)")
    check(np.allclose(dZ.sum(axis=1), 0, atol=1e-8),
          "each row of dZ must sum to 0 (shifting a unit's Z for every example changes nothing "
          f"after subtracting μ), got row sums {np.round(dZ.sum(axis=1), 4)}: the path through "
          "μ is missing or wrong (its sums run over the examples, axis=1, and m is their "
          "number, dZ_tilde.shape[1])")
    along = (dZ * Z_hat).sum(axis=1)
    check(np.allclose(along, 0, atol=1e-6),
          "each row of dZ must be orthogonal to that row of Ẑ (scaling a unit's Z changes "
          f"nothing after dividing by σ), got {np.round(along, 4)}: the path through σ² is "
          "missing or wrong")
    check(not np.allclose(dZ, 0), "dZ is all zeros: it should carry dZ_tilde back to Z")


def check_direct_path(batchnorm_backward: Callable, batch: Batch, epsilon: float = 0.5) -> None:
    """A dZ_tilde whose rows sum to 0 and are orthogonal to Ẑ's rows moves neither μ nor σ²:
    only the direct path is left, dZ = γ dZ_tilde / sqrt(σ² + ε) (here with a large ε)."""
    n, m = batch.Z.shape
    rng = np.random.default_rng([batch.seed, 1])
    U = standardized_rows(n, m, rng, rows=slice(1, m // 2))        # Ẑ's patterns from these rows,
    G = standardized_rows(n, m, rng, rows=slice(m // 2, m))        # dZ_tilde's from the others
    cache = cache_for(U, batch.mu, batch.sd, batch.gamma, epsilon)
    dZ = backward_outputs(batchnorm_backward, G, cache)[0]
    direct = direct_path(G, batch.gamma, batch.sd ** 2, epsilon)
    check(not np.allclose(dZ, m * direct),
          "dZ is m times too large: the compact form divides by m sqrt(σ² + ε)")
    check(not np.allclose(dZ, direct / m),
          "dZ is m times too small: divide by m only once (the compact form divides the whole "
          "bracket by m sqrt(σ² + ε); the mean form divides by sqrt(σ² + ε) alone)")
    check(not np.allclose(dZ, direct / batch.gamma),
          "dZ lacks the factor γ: the gradient reaches Ẑ as dẐ = γ dZ_tilde, since Z_tilde = γ Ẑ + β")
    check(np.allclose(dZ, direct),
          "for a dZ_tilde that moves neither μ nor σ² (its rows sum to 0 and are orthogonal to "
          "Ẑ), dZ must be γ dZ_tilde / sqrt(σ² + ε) — with cache['epsilon'] inside the square "
          f"root; got {np.round(dZ[0, :3], 4)} instead of {np.round(direct[0, :3], 4)} (first "
          "unit)")


# ---------------------------------------------------------------- update_running_stats
def running_stats_outputs(update_running_stats: Callable,
                          *args: Any) -> tuple[np.ndarray, np.ndarray]:
    """update_running_stats(*args) as (running_mean, running_var) float arrays."""
    new_mean, new_var = _returned(update_running_stats, args, ("running_mean", "running_var"))
    return as_array(new_mean, "running_mean"), as_array(new_var, "running_var")


def checked_update(update_running_stats: Callable, running_mean: np.ndarray,
                   running_var: np.ndarray, mu: np.ndarray, var: np.ndarray,
                   momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """``running_stats_outputs``, of the arguments' shape (n, 1), the arguments unchanged."""
    args = Snapshot(running_mean=running_mean, running_var=running_var, mu=mu, var=var)
    new_mean, new_var = running_stats_outputs(update_running_stats, running_mean, running_var,
                                              mu, var, momentum)
    args.check_unchanged("update_running_stats", "it was mutated in place (e.g. "
                         "running_mean *= momentum): return new arrays instead")
    n = np.shape(running_mean)[0]
    check(new_mean.shape == (n, 1) and new_var.shape == (n, 1), f"the running averages must keep "
          f"the shape (n, 1) = {(n, 1)}, got {new_mean.shape} and {new_var.shape}")
    return new_mean, new_var


OTHER_STATISTIC = {"mean": "variance", "variance": "mean"}


def check_fraction_moved(new: np.ndarray, old: np.ndarray, batch: np.ndarray, momentum: float,
                         what: str, other: np.ndarray | None = None) -> None:
    """The running ``what`` ("mean" or "variance"; (n, 1) arrays) moved the fraction
    1 - momentum of the way from its ``old`` value toward the ``batch``'s, and not at all where
    they are equal. other: the batch's other statistic (the variance for the mean and the
    mean for the variance), averaged by mistake."""
    moving = ~np.isclose(batch, old)
    moved = (new - old)[moving] / (batch - old)[moving]
    share, stays = f"{100 * (1 - momentum):.0f} %", f"{100 * momentum:.0f} %"
    swapped = moving.any() and np.allclose(moved, momentum)
    check(not swapped, "the roles of momentum and 1 - momentum are "
          f"swapped: momentum is the weight of the OLD running value, so with momentum = "
          f"{momentum} the average moves only {share} of the way toward the batch's {what} (yours "
          f"moved {stays})")
    if other is not None:
        toward = moving & ~np.isclose(other, old)
        moved_to_other = (new - old)[toward] / (other - old)[toward]
        with_other = toward.any() and np.allclose(moved_to_other, 1 - momentum)
        check(not with_other, f"the running {what} is averaged with the batch "
              f"{OTHER_STATISTIC[what].upper()}: average it with the batch {what}")
    check(np.allclose(moved, 1 - momentum), f"with momentum = {momentum} the running {what} must "
          f"move {share} of the way from its old value toward the batch {what}; it moved "
          f"{np.round(moved.ravel(), 3)} of the way")
    check(np.allclose(new[~moving], old[~moving]), "when the batch's statistics equal the running "
          "ones, the running averages must not change")


def check_momentum_one_keeps_averages(update_running_stats: Callable, running_mean: np.ndarray,
                                      running_var: np.ndarray, mu: np.ndarray,
                                      var: np.ndarray) -> None:
    """With momentum = 1 the running averages stay as they are, whatever the batch."""
    kept = running_stats_outputs(update_running_stats, running_mean, running_var, mu, var, 1.0)
    check(np.allclose(kept[0], running_mean) and np.allclose(kept[1], running_var),
          "with momentum = 1 the running averages must stay as they are (momentum weighs the old "
          "value)")


# ---------------------------------------------------------------- batchnorm_inference
def inference_output(batchnorm_inference: Callable, Z: np.ndarray, gamma: np.ndarray,
                     beta: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                     epsilon: float) -> np.ndarray:
    """batchnorm_inference(Z, gamma, beta, running_mean, running_var, epsilon) as floats."""
    with np.errstate(all="ignore"):
        out = batchnorm_inference(Z, gamma, beta, running_mean, running_var, epsilon)
    return as_array(out, "Z_tilde")


def checked_inference(batchnorm_inference: Callable, Z: np.ndarray,
                      learned: Mapping[str, Any]) -> np.ndarray:
    """``inference_output`` for Z (n, m) and ``learned`` {"gamma", "beta", "running_mean",
    "running_var", "epsilon"}: Z_tilde of Z's shape, the arguments unchanged."""
    args = Snapshot(Z=Z, **learned)
    Z_tilde = inference_output(batchnorm_inference, Z, **learned)
    check(Z_tilde.shape == np.shape(Z), f"Z_tilde must have Z's shape {np.shape(Z)}, got "
          f"{Z_tilde.shape}")
    args.check_unchanged("batchnorm_inference", "it was mutated in place: compute a new "
                         "array")
    return Z_tilde


def check_no_batch_statistics(batchnorm_inference: Callable, Z: np.ndarray, Z_tilde: np.ndarray,
                              learned: Mapping[str, Any]) -> None:
    """Each column of Z_tilde depends only on that column of Z (n, m): an example alone gives
    its column of the batch's output, and not simply β."""
    alone = inference_output(batchnorm_inference, Z[:, :1], **learned)
    check(not np.allclose(alone, learned["beta"]),
          "for a batch of ONE example your output is β, whatever the example: batch statistics "
          "are used at test time (a single example has σ² = 0). Normalize with running_mean "
          "and running_var instead")
    columns = np.hstack([inference_output(batchnorm_inference, Z[:, j:j + 1], **learned)
                         for j in range(Z.shape[1])])
    check(np.allclose(columns, Z_tilde),
          "an example's output depends on the other examples of the batch: batch statistics are "
          "used at test time. Use running_mean and running_var, not statistics of Z")


def check_running_normalization(batchnorm_inference: Callable,
                                 learned: Mapping[str, Any]) -> None:
    """Z = running_mean gives β; Z one running standard deviation above it,
    running_mean + sqrt(running_var + ε), gives γ + β."""
    gamma, beta = learned["gamma"], learned["beta"]
    r_mean, r_var, eps = learned["running_mean"], learned["running_var"], learned["epsilon"]
    at_mean = inference_output(batchnorm_inference, r_mean, **learned)
    check(np.allclose(at_mean, beta), f"Z = running_mean must give Z_tilde = β = {beta.ravel()}, "
          f"got {np.round(at_mean.ravel(), 4)}: subtract running_mean, and apply γ and β after "
          "normalizing (γ Ẑ + β)")
    at_sd = inference_output(batchnorm_inference, r_mean + np.sqrt(r_var + eps), **learned)
    root_plus_eps = np.sqrt(r_var) + eps             # what ε outside the root divides by
    check(not np.allclose(at_sd, gamma / np.sqrt(r_var + eps) + beta),
          "Z - running_mean is divided by running_var + ε, the variance: divide by its square "
          "root, sqrt(running_var + ε)")
    check(not np.allclose(at_sd, gamma * np.sqrt(r_var + eps) / root_plus_eps + beta),
          "ε is outside the square root: divide by sqrt(running_var + ε), not by "
          "sqrt(running_var) + ε")
    check(np.allclose(at_sd, gamma + beta), "Z = running_mean + sqrt(running_var + ε) must give "
          f"γ + β = {(gamma + beta).ravel()}, got {np.round(at_sd.ravel(), 4)}: divide by "
          "sqrt(running_var + epsilon), then apply γ and β")
