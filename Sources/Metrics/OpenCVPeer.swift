import Core
import Foundation
import Media

/// OpenCV's DIS optical flow interpolation, run as an external peer (Python with opencv-python;
/// `$MAVIN_PYTHON` or `python3`): DIS medium preset on luma both ways, the intermediate flows of
/// linear motion F_{t→0} = −(1−t)t·F_{0→1} + t²·F_{1→0}, F_{t→1} = (1−t)²·F_{0→1} − t(1−t)·F_{1→0},
/// bilinear backward warps and the blend (1−t)·W₀ + t·W₁. Never a dependency of mavin itself.
public enum OpenCVPeer {
    static let script = """
        import sys
        import cv2
        import numpy as np
        a, b = cv2.imread(sys.argv[1]), cv2.imread(sys.argv[2])
        length, out = int(sys.argv[3]), sys.argv[4]
        ga, gb = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        f01, f10 = dis.calc(ga, gb, None), dis.calc(gb, ga, None)
        h, w = ga.shape
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        def warp(img, f):
            return cv2.remap(img, xs + f[..., 0], ys + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for k in range(1, length + 1):
            t = k / (length + 1)
            ft0 = -(1 - t) * t * f01 + t * t * f10
            ft1 = (1 - t) ** 2 * f01 - t * (1 - t) * f10
            frame = (1 - t) * warp(a, ft0).astype(np.float32) + t * warp(b, ft1).astype(np.float32)
            cv2.imwrite(f"{out}/out_{k:03d}.png", np.clip(np.rint(frame), 0, 255).astype(np.uint8))
        """

    public static var python: String { ProcessInfo.processInfo.environment["MAVIN_PYTHON"] ?? "python3" }

    /// Whether the Python found imports cv2 (asked once).
    public static let available: Bool = {
        guard let r = try? Subprocess.run([python, "-c", "import cv2"], timeout: 60) else { return false }
        return r.status == 0
    }()

    public static func frames(start: RGBImage, end: RGBImage, length l: Int) throws -> [RGBImage] {
        guard available else { throw MetricsError.externalMissing("opencv-dis") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-opencv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.png")
        let b = dir.appendingPathComponent("b.png")
        let code = dir.appendingPathComponent("mavin_opencv_peer.py")  // not dis.py: that shadows the stdlib module
        try PNG.write(start, to: a)
        try PNG.write(end, to: b)
        try Data(script.utf8).write(to: code)
        let r = try Subprocess.run([python, code.path, a.path, b.path, String(l), dir.path], timeout: 300)
        guard r.status == 0 else { throw MetricsError.externalFailed("opencv-dis", r.output) }
        return try (1...l).map { k in
            let f = dir.appendingPathComponent(String(format: "out_%03d.png", k))
            guard FileManager.default.fileExists(atPath: f.path) else {
                throw MetricsError.externalFailed("opencv-dis", "frame \(k) missing")
            }
            return try PNG.read(f).rgb
        }
    }
}
