import CTensorShim
import Core
import Foundation

/// OpenBLAS, loaded on first use.
///
/// Debian's OpenBLAS 0.3.21 mis-detects recent CPUs (it picks the Prescott
/// kernel, ~5× slower) and reads `OPENBLAS_CORETYPE` only while the library
/// loads, so the library is not linked: we choose a core from CPUID and then
/// `dlopen` it. A user's own `OPENBLAS_CORETYPE` always wins.
public enum BLAS {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The core we ask for on this CPU, or nil to let OpenBLAS decide.
    public static var preferredCore: String? {
        if mavin_cpu_has_avx512() != 0 { return "SkylakeX" }
        if mavin_cpu_has_avx2_fma() != 0 { return "Haswell" }
        return nil
    }

    private static let loadResult: Result<Void, LoadError> = {
        var buffer = [CChar](repeating: 0, count: 512)
        let status = mavin_blas_load(preferredCore, &buffer, buffer.count)
        if status != 0 {
            let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return .failure(LoadError(description: message))
        }
        // OpenBLAS runs single-threaded: its idle threads spin in sched_yield and steal
        // the other core from our own workers (measured: a third of a training step).
        // Large GEMMs are split across our workers instead (see `sgemm`).
        mavin_blas_set_threads(1)
        return .success(())
    }()

    /// Loads the library if needed; throws with an actionable message if it is missing.
    public static func load() throws { try loadResult.get() }

    private static func ensureLoaded() {
        if case .failure(let error) = loadResult {
            fatalError("mavin: \(error.description)")
        }
    }

    /// The kernel family OpenBLAS is running (e.g. "SkylakeX").
    public static var coreName: String {
        ensureLoaded()
        return String(cString: mavin_blas_corename())
    }

    public static var threads: Int {
        get {
            ensureLoaded()
            return Int(mavin_blas_get_threads())
        }
        set {
            ensureLoaded()
            mavin_blas_set_threads(Int32(newValue))
        }
    }

    /// Row-major C = alpha·op(A)·op(B) + beta·C, with op(X) = Xᵀ when the flag is set.
    /// Large products are split over the cores by rows (or columns) of C, each part a
    /// single-threaded OpenBLAS call; inside our own parallel workers the call stays serial.
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        ensureLoaded()
        if m == 0 || n == 0 { return }
        let parts = kernelWorkers
        let work: Double = Double(m) * Double(n) * Double(k)
        let serial: Bool = parts < 2 || mavin_in_worker() != 0 || work < 2_097_152 || max(m, n) < 32
        if serial {
            mavin_sgemm(
                transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            mavin_set_in_worker(1)
            defer { mavin_set_in_worker(0) }
            if m >= n {
                let lo = (m * p / parts) & ~7
                let hi = p == parts - 1 ? m : (m * (p + 1) / parts) & ~7
                if hi <= lo { return }
                // Rows lo..<hi of op(A) and C.
                let aPart = transA ? a + lo : a + lo * lda
                mavin_sgemm(
                    transA ? 1 : 0, transB ? 1 : 0, Int32(hi - lo), Int32(n), Int32(k), alpha,
                    aPart, Int32(lda), b, Int32(ldb), beta, c + lo * ldc, Int32(ldc))
            } else {
                let lo = (n * p / parts) & ~15
                let hi = p == parts - 1 ? n : (n * (p + 1) / parts) & ~15
                if hi <= lo { return }
                // Columns lo..<hi of op(B) and C.
                let bPart = transB ? b + lo * ldb : b + lo
                mavin_sgemm(
                    transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(hi - lo), Int32(k), alpha,
                    a, Int32(lda), bPart, Int32(ldb), beta, c + lo, Int32(ldc))
            }
        }
    }
}
