import ArgumentParser
import Core
import Foundation
import Media
import Metrics

struct BenchFlow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "End-point error and time of our DIS and Horn–Schunck flow on pairs with exactly known flow, "
            + "beside OpenCV's DIS (medium preset) on the same pairs when a Python with cv2 is found.")
    @Option(help: "A video whose frames make the pairs (default: Samples/bunny.mp4).") var video = "Samples/bunny.mp4"
    @Option(help: "Python with opencv-python (default: $MAVIN_PYTHON or python3).") var python: String?
    @Flag(help: "Print JSON (one row per size and magnitude: epe and ms of dis, horn_schunck, opencv_dis).")
    var json = false

    struct Row: Encodable {
        var size: String
        var magnitude: Float
        var pairs: Int
        var dis_epe: Double
        var dis_ms: Double
        var horn_schunck_epe: Double?
        var opencv_dis_epe: Double?
        var opencv_dis_ms: Double?
    }

    static let peer = """
        import json, sys, time
        import cv2
        import numpy as np
        folder = sys.argv[1]
        out = {}
        for p in json.load(open(folder + "/pairs.json")):
            w, h, m = p["width"], p["height"], p["margin"]
            a = cv2.imread(f"{folder}/{p['name']}_a.png", cv2.IMREAD_GRAYSCALE)
            b = cv2.imread(f"{folder}/{p['name']}_b.png", cv2.IMREAD_GRAYSCALE)
            g = np.fromfile(f"{folder}/{p['name']}_truth.f32", dtype="<f4").reshape(2, h, w)
            dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
            t0 = time.perf_counter()
            f = dis.calc(b, a, None)
            ms = (time.perf_counter() - t0) * 1000
            ys, xs = np.mgrid[0:h, 0:w]
            tx, ty = xs + g[0], ys + g[1]
            keep = (tx >= m) & (ty >= m) & (tx <= w - 1 - m) & (ty <= h - 1 - m)
            keep[:m, :] = False; keep[h - m:, :] = False; keep[:, :m] = False; keep[:, w - m:] = False
            e = np.sqrt((f[..., 0] - g[0]) ** 2 + (f[..., 1] - g[1]) ** 2)[keep].mean()
            out[p["name"]] = {"epe": float(e), "ms": ms}
        print(json.dumps(out))
        """

    func run() throws {
        let reader = try VideoReader(path: video)
        let sizes = [(128, 128), (256, 144), (640, 360)]
        let magnitudes: [Float] = [3, 8, 16]
        let seeds: [UInt64] = [1, 2, 3]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-flow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var manifest: [[String: Any]] = []
        var ours: [String: (dis: Double, ms: Double, hs: Double?)] = [:]
        for (w, h) in sizes {
            let frame = try reader.frame(at: min(10, reader.frameCount - 1), size: (w, h))
            // Both images quantised to 8 bits, as every estimator (ours and OpenCV's) then sees the same pixels.
            let a = frame.luma().map { $0.rounded() }
            for m in magnitudes {
                for seed in seeds {
                    let truth = KnownFlow.field(width: w, height: h, magnitude: m, seed: seed)
                    let b = KnownFlow.warped(a, by: truth).map { min(255, max(0, $0.rounded())) }
                    let name = "\(w)x\(h)_m\(Int(m))_s\(seed)"
                    var flow = FlowField(width: w, height: h)
                    let seconds = timeIt(minSeconds: 0.2) { flow = DISFlow.flow(from: b, to: a, width: w, height: h) }
                    let hs =
                        w * h <= 256 * 144
                        ? Double(
                            KnownFlow.endPointError(HornSchunck.flow(from: b, to: a, width: w, height: h), truth: truth)
                        )
                        : nil
                    ours[name] = (Double(KnownFlow.endPointError(flow, truth: truth)), seconds * 1000, hs)
                    try PNG.write(gray(a, w, h), to: folder.appendingPathComponent("\(name)_a.png"))
                    try PNG.write(gray(b, w, h), to: folder.appendingPathComponent("\(name)_b.png"))
                    let raw = (truth.u + truth.v).withUnsafeBufferPointer { Data(buffer: $0) }
                    try raw.write(to: folder.appendingPathComponent("\(name)_truth.f32"))
                    manifest.append(["name": name, "width": w, "height": h, "margin": 2])
                }
            }
        }
        try JSONSerialization.data(withJSONObject: manifest).write(to: folder.appendingPathComponent("pairs.json"))
        var peer: [String: [String: Double]] = [:]
        let py = python ?? OpenCVPeer.python
        let script = folder.appendingPathComponent("mavin_flow_peer.py")
        try Data(Self.peer.utf8).write(to: script)
        if let r = try? Subprocess.run([py, script.path, folder.path], timeout: 600), r.status == 0,
            let line = r.output.split(separator: "\n").last,
            let parsed = try? JSONDecoder().decode([String: [String: Double]].self, from: Data(line.utf8))
        {
            peer = parsed
        } else {
            print("note: no Python with cv2 at '\(py)' (set --python or MAVIN_PYTHON): OpenCV's DIS not measured")
        }
        var rows: [Row] = []
        for (w, h) in sizes {
            for m in magnitudes {
                let names = seeds.map { "\(w)x\(h)_m\(Int(m))_s\($0)" }
                func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
                let hs = names.compactMap { ours[$0]?.hs }
                let cv = names.compactMap { peer[$0]?["epe"] }
                let cvms = names.compactMap { peer[$0]?["ms"] }
                rows.append(
                    Row(
                        size: "\(w)×\(h)", magnitude: m, pairs: names.count,
                        dis_epe: mean(names.compactMap { ours[$0]?.dis }),
                        dis_ms: mean(names.compactMap { ours[$0]?.ms }),
                        horn_schunck_epe: hs.isEmpty ? nil : mean(hs),
                        opencv_dis_epe: cv.isEmpty ? nil : mean(cv), opencv_dis_ms: cvms.isEmpty ? nil : mean(cvms)))
            }
        }
        if json {
            try printJSON(rows)
            return
        }
        print("known flow on \(video) frame 10 (rotation, zoom, translation and a local bump; EPE in pixels):")
        print("size       max px  DIS EPE  DIS ms   HS EPE   OpenCV DIS EPE  OpenCV ms")
        for r in rows {
            func f(_ v: Double?, _ fmt: String) -> String { v.map { String(format: fmt, $0) } ?? "–" }
            let line = [
                r.size.padding(toLength: 10, withPad: " ", startingAt: 0), String(format: "%6.0f", r.magnitude),
                String(format: "%8.3f", r.dis_epe), String(format: "%7.1f", r.dis_ms),
                f(r.horn_schunck_epe, "%8.3f").padding(toLength: 8, withPad: " ", startingAt: 0),
                f(r.opencv_dis_epe, "%15.3f"), f(r.opencv_dis_ms, "%10.1f")
            ]
            print(line.joined(separator: " "))
        }
    }

    func gray(_ p: [Float], _ w: Int, _ h: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: 3 * w * h)
        for i in 0..<(w * h) {
            let v = UInt8(min(255, max(0, p[i])))
            px[3 * i] = v
            px[3 * i + 1] = v
            px[3 * i + 2] = v
        }
        return RGBImage(width: w, height: h, pixels: px)
    }
}
