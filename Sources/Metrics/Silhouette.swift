import Media

/// The animal's silhouette in a synthetic frame, found by difference to an exact render of the same
/// camera without the animal, and the overlap of two silhouettes. A dissolve shows both poses half
/// transparent: its silhouette is their union, which overlaps the true single pose poorly.
public enum Silhouette {
    /// Pixels whose largest channel difference to `background` exceeds `threshold` (RGB in 0…1), both at
    /// the pixel and averaged over its 3×3 neighbourhood: resampled texture and compression noise, which
    /// differ in scattered pixels, do not count as animal, and the silhouette's edge does not grow.
    public static func mask(_ frame: RGBImage, background: RGBImage, threshold: Float = 0.1) -> [Bool] {
        precondition(frame.width == background.width && frame.height == background.height)
        let w = frame.width
        let h = frame.height
        var difference = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) {
            var largest: Float = 0
            for c in 0..<3 {
                let d = abs(Float(frame.pixels[3 * i + c]) - Float(background.pixels[3 * i + c])) / 255
                largest = max(largest, d)
            }
            difference[i] = largest
        }
        var out = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var sum: Float = 0
                var count: Float = 0
                for dy in -1...1 {
                    for dx in -1...1 {
                        let yy = y + dy
                        let xx = x + dx
                        guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                        sum += difference[yy * w + xx]
                        count += 1
                    }
                }
                out[y * w + x] = difference[y * w + x] > threshold && sum / count > threshold
            }
        }
        return out
    }

    /// |a ∩ b| / |a ∪ b|; nil when both are empty (no animal in view).
    public static func iou(_ a: [Bool], _ b: [Bool]) -> Double? {
        precondition(a.count == b.count)
        var both = 0
        var either = 0
        for i in a.indices {
            if a[i] && b[i] { both += 1 }
            if a[i] || b[i] { either += 1 }
        }
        return either == 0 ? nil : Double(both) / Double(either)
    }
}
