import Foundation

/// Nonlinear least squares by Levenberg-Marquardt, for the handful of parameters a calibration fits.
///
/// Deterministic: a central-difference Jacobian, a fixed damping schedule (Marquardt's ×10 / ÷10),
/// no randomness. Parameters live in whatever space the caller chooses (calibrations fit
/// logarithms, so rates stay positive and steps are relative). The covariance is
/// `σ² (JᵀJ)⁻¹` with `σ² = SSR / (n − k)` at the optimum, so each parameter's standard error
/// comes with the fit.
public struct LeastSquares: Sendable {
    public struct Result: Sendable {
        public var parameters: [Double]
        public var residuals: [Double]
        /// Standard error of each parameter (nan when the problem is singular or exactly determined).
        public var standardErrors: [Double]
        public var iterations: Int
        public var sumOfSquares: Double { residuals.reduce(0) { $0 + $1 * $1 } }
    }

    public var maxIterations = 200
    public var tolerance = 1e-12
    /// Relative step of the central differences (larger for an objective that is piecewise
    /// constant at fine scale, such as a simulation's percentiles in whole nanoseconds).
    public var differenceStep = 1e-6

    public init() {}

    /// Minimises `Σ residuals(θ)²` from `start`.
    public func fit(start: [Double], residuals f: ([Double]) -> [Double]) -> Result {
        var theta = start
        var r = f(theta)
        var cost = Self.ss(r)
        var lambda = 1e-3
        var iterations = 0
        let k = theta.count
        while iterations < maxIterations {
            iterations += 1
            let jac = Self.jacobian(f, at: theta, count: r.count, step: differenceStep)
            // Normal equations (JᵀJ + λ diag(JᵀJ)) δ = −Jᵀr.
            var jtj = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            var jtr = [Double](repeating: 0, count: k)
            for i in 0 ..< r.count {
                for a in 0 ..< k {
                    jtr[a] += jac[i][a] * r[i]
                    for b in 0 ..< k { jtj[a][b] += jac[i][a] * jac[i][b] }
                }
            }
            var improved = false
            while lambda < 1e12 {
                var m = jtj
                for a in 0 ..< k { m[a][a] += lambda * max(jtj[a][a], 1e-12) }
                guard let delta = Self.solve(m, jtr.map { -$0 }) else { lambda *= 10; continue }
                let candidate = zip(theta, delta).map { $0 + $1 }
                let rc = f(candidate)
                let c = Self.ss(rc)
                if c.isFinite && c < cost {
                    let gain = cost - c
                    theta = candidate
                    r = rc
                    cost = c
                    lambda = max(lambda / 10, 1e-12)
                    improved = true
                    if gain <= tolerance * max(cost, 1e-30) { iterations = maxIterations }
                    break
                }
                lambda *= 10
            }
            if !improved { break }
        }
        // Standard errors from the Jacobian at the optimum.
        let jac = Self.jacobian(f, at: theta, count: r.count, step: differenceStep)
        var jtj = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for i in 0 ..< r.count { for a in 0 ..< k { for b in 0 ..< k { jtj[a][b] += jac[i][a] * jac[i][b] } } }
        let dof = r.count - k
        var errors = [Double](repeating: .nan, count: k)
        if dof > 0, let inverse = Self.invert(jtj) {
            let s2 = cost / Double(dof)
            for a in 0 ..< k { errors[a] = (max(0, inverse[a][a]) * s2).squareRoot() }
        }
        return Result(parameters: theta, residuals: r, standardErrors: errors, iterations: iterations)
    }

    /// Minimises `Σ residuals(θ)²` by compass search: try `±step` along each parameter, keep any
    /// improvement, halve the step when none improves, stop below `finalStep`. Slower than
    /// Levenberg-Marquardt but needs no derivative, for objectives that are flat at fine scale
    /// and bumpy in between (a simulation's latency percentiles). Standard errors come from a
    /// Jacobian with differences of `differenceStep` at the optimum.
    public func search(start: [Double], initialStep: Double = 0.25, finalStep: Double = 1e-4,
                       residuals f: ([Double]) -> [Double]) -> Result {
        var theta = start
        var r = f(theta)
        var cost = Self.ss(r)
        var step = initialStep
        var iterations = 0
        while step >= finalStep && iterations < 10 * maxIterations {
            iterations += 1
            var improved = false
            for a in theta.indices {
                for sign in [1.0, -1.0] {
                    var candidate = theta
                    candidate[a] += sign * step
                    let rc = f(candidate)
                    let c = Self.ss(rc)
                    if c.isFinite && c < cost {
                        theta = candidate
                        r = rc
                        cost = c
                        improved = true
                        break
                    }
                }
            }
            if !improved { step /= 2 }
        }
        let k = theta.count
        let jac = Self.jacobian(f, at: theta, count: r.count, step: differenceStep)
        var jtj = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for i in 0 ..< r.count { for a in 0 ..< k { for b in 0 ..< k { jtj[a][b] += jac[i][a] * jac[i][b] } } }
        var errors = [Double](repeating: .nan, count: k)
        if r.count > k, let inverse = Self.invert(jtj) {
            let s2 = cost / Double(r.count - k)
            for a in 0 ..< k { errors[a] = (max(0, inverse[a][a]) * s2).squareRoot() }
        }
        return Result(parameters: theta, residuals: r, standardErrors: errors, iterations: iterations)
    }

    static func ss(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }

    static func jacobian(_ f: ([Double]) -> [Double], at theta: [Double], count: Int, step: Double) -> [[Double]] {
        var jac = [[Double]](repeating: [Double](repeating: 0, count: theta.count), count: count)
        for a in 0 ..< theta.count {
            let h = step * max(1, abs(theta[a]))
            var up = theta, down = theta
            up[a] += h
            down[a] -= h
            let ru = f(up), rd = f(down)
            for i in 0 ..< count {
                let v = (ru[i] - rd[i]) / (2 * h)
                jac[i][a] = v.isFinite ? v : 0
            }
        }
        return jac
    }

    /// Gaussian elimination with partial pivoting; nil when singular.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a
        var x = b
        for col in 0 ..< n {
            var pivot = col
            for row in col + 1 ..< n where abs(m[row][col]) > abs(m[pivot][col]) { pivot = row }
            guard abs(m[pivot][col]) > 1e-300 else { return nil }
            m.swapAt(col, pivot)
            x.swapAt(col, pivot)
            for row in col + 1 ..< n {
                let factor = m[row][col] / m[col][col]
                for c in col ..< n { m[row][c] -= factor * m[col][c] }
                x[row] -= factor * x[col]
            }
        }
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = x[row]
            for c in row + 1 ..< n { s -= m[row][c] * x[c] }
            x[row] = s / m[row][row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }

    static func invert(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var columns: [[Double]] = []
        for i in 0 ..< n {
            var e = [Double](repeating: 0, count: n)
            e[i] = 1
            guard let col = solve(a, e) else { return nil }
            columns.append(col)
        }
        return (0 ..< n).map { r in (0 ..< n).map { c in columns[c][r] } }
    }
}
