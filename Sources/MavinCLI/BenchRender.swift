import ArgumentParser
import Core
import Foundation
import Media
import Studio

struct BenchRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Milliseconds to turn a 256² frame into kitty, iTerm2, sixel and half-block bytes "
            + "(and chafa's sixel time, if installed).")
    @Flag(
        help: "Print JSON (keys: kitty_ms, iterm2_ms, sixel_ms, halfblock_ms, halfblock256_ms, quadrants_ms, chafa_ms)."
    )
    var json = false

    struct Report: Encodable {
        var kitty_ms: Double
        var iterm2_ms: Double
        var sixel_ms: Double
        var halfblock_ms: Double
        var halfblock256_ms: Double
        var quadrants_ms: Double
        var chafa_ms: Double?
    }

    func run() throws {
        let path = FileManager.default.fileExists(atPath: "Samples/bunny.mp4") ? "Samples/bunny.mp4" : nil
        let frame: RGBImage
        if let path {
            frame = try VideoReader(path: path).frame(at: 30, size: (256, 256), fit: .crop)
        } else {
            frame = RGBImage(width: 256, height: 256, pixels: (0..<(256 * 256 * 3)).map { UInt8(($0 * 7) % 256) })
        }
        let sixel = timeIt(minSeconds: 1) { _ = Sixel.encode(frame) }
        // kitty: raw RGB in base64 chunks (transmit) plus the placement; iTerm2: libpng in memory and base64.
        let kitty = timeIt(minSeconds: 1) {
            _ = KittyGraphics.transmit(frame, id: 1).joined() + KittyGraphics.place(id: 1, cols: 128, rows: 64)
        }
        let iterm2 = timeIt(minSeconds: 1) { _ = ITerm2Images.inline(frame, cols: 128, rows: 64) }
        // A 256² frame on 128×64 cells (two pixels per cell vertically).
        let half = timeIt(minSeconds: 1) {
            _ = Pictures.halfBlock(frame, cols: 128, rows: 64, at: (1, 1), mode: .truecolor)
        }
        let half256 = timeIt(minSeconds: 1) {
            _ = Pictures.halfBlock(frame, cols: 128, rows: 64, at: (1, 1), mode: .ansi256)
        }
        // Quadrants: 2×2 pixels a cell, so the same frame on 128×128 cells.
        let quads = timeIt(minSeconds: 1) { _ = Pictures.quadrants(frame, cols: 128, rows: 128, at: (1, 1)) }
        var chafa: Double?
        if Subprocess.which("chafa") != nil {
            let png = FileManager.default.temporaryDirectory.appendingPathComponent("mavin-bench-\(getpid()).png")
            try PNG.write(frame, to: png, overwrite: true)
            defer { try? FileManager.default.removeItem(at: png) }
            chafa = try timeIt(minSeconds: 1) {
                _ = try Subprocess.run(["chafa", "-f", "sixel", "-s", "128x64", png.path])
            }
        }
        let r = Report(
            kitty_ms: kitty * 1000, iterm2_ms: iterm2 * 1000, sixel_ms: sixel * 1000,
            halfblock_ms: half * 1000,
            halfblock256_ms: half256 * 1000, quadrants_ms: quads * 1000, chafa_ms: chafa.map { $0 * 1000 })
        if json {
            try printJSON(r)
        } else {
            print(
                String(format: "256² frame: kitty %.2f ms, iTerm2 %.2f ms, ", r.kitty_ms, r.iterm2_ms)
                    + String(
                        format: "sixel %.2f ms, half-block %.2f ms (24-bit) / %.2f ms (256), quadrants %.2f ms",
                        r.sixel_ms, r.halfblock_ms, r.halfblock256_ms, r.quadrants_ms)
                    + (r.chafa_ms.map { String(format: ", chafa %.1f ms", $0) } ?? " (chafa not installed)"))
        }
    }
}
