import ArgumentParser
import Core
import Foundation
import Media
import Tensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure speed against a peer in the same run.",
        subcommands: [
            BenchBLAS.self, BenchDecode.self, BenchSynth.self, BenchTensor.self, BenchModel.self, BenchMetrics.self,
            BenchRender.self,
            BenchFlow.self
        ])
}

/// Repeats `body` until at least `minSeconds` have passed; returns seconds per call.
func timeIt(minSeconds: Double = 0.3, warmup: Int = 1, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var calls = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    repeat {
        try body()
        calls += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < minSeconds
    return elapsed / Double(calls)
}

struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "blas", abstract: "sgemm GFLOP/s at 512² and 1024².")

    @Flag(help: "Print JSON (keys: sgemm_gflops, sgemm_512_gflops, sgemm_1024_gflops, threads, core).")
    var json = false

    struct Report: Encodable {
        var sgemm_gflops: Double
        var sgemm_512_gflops: Double
        var sgemm_1024_gflops: Double
        var threads: Int
        var core: String
        var coretype_env: String?
    }

    func run() throws {
        try BLAS.load()
        // OpenBLAS's own threads, for the library's headline number; the engine splits GEMMs itself.
        let engineThreads = BLAS.threads
        BLAS.threads = kernelWorkers
        let benchThreads = BLAS.threads
        defer { BLAS.threads = engineThreads }
        func gflops(_ n: Int) -> Double {
            let a = [Float](repeating: 0.5, count: n * n)
            let b = [Float](repeating: 0.25, count: n * n)
            var c = [Float](repeating: 0, count: n * n)
            let s = timeIt(minSeconds: 0.5) {
                BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n)
            }
            return 2 * Double(n * n * n) / s / 1e9
        }
        let g512 = gflops(512)
        let g1024 = gflops(1024)
        BLAS.threads = engineThreads
        let report = Report(
            sgemm_gflops: max(g512, g1024), sgemm_512_gflops: g512, sgemm_1024_gflops: g1024,
            threads: benchThreads, core: BLAS.coreName,
            coretype_env: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"])
        if json {
            try printJSON(report)
        } else {
            print(
                String(
                    format: "sgemm 512²: %.1f GFLOP/s, 1024²: %.1f GFLOP/s (%d threads, core %@)", g512, g1024,
                    report.threads, report.core))
        }
    }
}

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Our decode to RGB versus the ffmpeg CLI on the same file, same run.")

    @Argument(help: "A video file.")
    var file: String
    @Flag(help: "Print JSON (keys: fps, ffmpeg_fps, ratio, frames).")
    var json = false

    struct Report: Encodable {
        var frames: Int
        var fps: Double
        var ffmpeg_fps: Double?
        var ratio: Double?
    }

    func run() throws {
        let reader = try VideoReader(path: file)
        let n = reader.frameCount
        var best = Double.infinity
        for _ in 0..<3 {
            let r = try VideoReader(path: file)
            let t0 = Date()
            for i in 0..<n { _ = try r.frame(at: i) }
            best = min(best, Date().timeIntervalSince(t0))
        }
        var ffmpegFPS: Double?
        if Subprocess.which("ffmpeg") != nil {
            var bestFF = Double.infinity
            for _ in 0..<3 {
                let t0 = Date()
                let result = try Subprocess.run(
                    ["ffmpeg", "-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", "/dev/null"],
                    timeout: 600)
                guard result.status == 0 else { throw UserError("ffmpeg failed: \(result.output)") }
                bestFF = min(bestFF, Date().timeIntervalSince(t0))
            }
            ffmpegFPS = Double(n) / bestFF
        }
        let fps = Double(n) / best
        let report = Report(frames: n, fps: fps, ffmpeg_fps: ffmpegFPS, ratio: ffmpegFPS.map { fps / $0 })
        if json {
            try printJSON(report)
        } else {
            print(
                String(format: "%d frames: ours %.0f fps", n, fps)
                    + (ffmpegFPS.map { String(format: ", ffmpeg %.0f fps, ratio %.2f", $0, fps / $0) }
                        ?? " (ffmpeg not installed)"))
        }
    }
}
