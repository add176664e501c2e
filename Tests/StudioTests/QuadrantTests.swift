import XCTest
@testable import Media
@testable import Studio

/// Quadrant pictures byte for byte: a known 6×2 image is three cells, each split into its best two colours.
final class QuadrantTests: XCTestCase {
    func testKnownCellsPickTheirSplitGlyphAndColours() {
        // Cell 1: red over blue (▀); cell 2: all green (█); cell 3: white on the diagonal TL–BR, black on the
        // other, which is ▞ (top right and bottom left) in black on white.
        let rows: [[(UInt8, UInt8, UInt8)]] = [
            [(255, 0, 0), (255, 0, 0), (0, 200, 0), (0, 200, 0), (255, 255, 255), (0, 0, 0)],
            [(0, 0, 255), (0, 0, 255), (0, 200, 0), (0, 200, 0), (0, 0, 0), (255, 255, 255)]
        ]
        let img = RGBImage(width: 6, height: 2, pixels: rows.flatMap { $0.flatMap { [$0.0, $0.1, $0.2] } })
        let s = Pictures.quadrants(img, cols: 3, rows: 1, at: (row: 4, col: 7))
        let expected =
            "\u{1B}[4;7H"
            + "\u{1B}[38;2;255;0;0;48;2;0;0;255m▀"
            + "\u{1B}[38;2;0;200;0;48;2;0;200;0m█"
            + "\u{1B}[38;2;0;0;0;48;2;255;255;255m▞"
            + "\u{1B}[0m"
        XCTAssertEqual(s, expected)
    }

    func testEverySplitIsTheLeastSquaredError() {
        // Three similar pixels and one outlier: the outlier alone is the foreground group (▗ is mask 8, drawn as
        // its complement ▛ with the colours swapped).
        let px: [(UInt8, UInt8, UInt8)] = [(100, 100, 100), (104, 100, 100), (100, 104, 100), (250, 10, 10)]
        let split = Pictures.bestSplit(px)
        XCTAssertEqual(split.mask, 7)
        XCTAssertEqual(split.fg, RGB(101, 101, 100))
        XCTAssertEqual(split.bg, RGB(250, 10, 10))
        // One colour everywhere: the full block.
        XCTAssertEqual(Pictures.bestSplit([(9, 9, 9), (9, 9, 9), (9, 9, 9), (9, 9, 9)]).mask, 15)
    }
}
