// swift-tools-version:6.0
import PackageDescription

// System libraries come from Debian packages (see .ci/install-deps). OpenBLAS is
// not linked: Tensor/BLAS.swift dlopen()s it after choosing OPENBLAS_CORETYPE.
let package = Package(
    name: "Mavin",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mavin", targets: ["MavinCLI"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0")
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg", path: "Sources/CFFmpeg",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses", providers: [.apt(["libncurses-dev"])]),
        // One C shim a module: what Swift cannot import (macros, globals) or what wants target_clones.
        .target(
            name: "CTensorShim", cSettings: [.unsafeFlags(["-O2", "-ffast-math"])],
            linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CMediaShim", dependencies: ["CFFmpeg"], linkerSettings: [.linkedLibrary("avutil")]),
        .target(name: "CMetricsShim", cSettings: [.unsafeFlags(["-O2", "-ffast-math"])]),
        .target(name: "CCursesShim", dependencies: ["CNcurses"], linkerSettings: [.linkedLibrary("ncursesw")]),
        .target(name: "Core"),
        .target(name: "Tensor", dependencies: ["CTensorShim", "Core"]),
        .target(name: "Media", dependencies: ["CMediaShim", "CFFmpeg", "CPNG", "Core"]),
        .target(name: "Synth", dependencies: ["Media", "Core"]),
        .target(name: "Metrics", dependencies: ["Tensor", "Media", "CMetricsShim", "Core"]),
        .target(name: "Diffusion", dependencies: ["Tensor", "CFFTW", "Core"]),
        .target(name: "MavinModel", dependencies: ["Tensor", "Diffusion", "Core"]),
        .target(
            name: "Engine",
            dependencies: ["Core", "MavinModel", "Diffusion", "Tensor", "Media", "Metrics", "Synth", "TOMLKit"]),
        .target(
            name: "Studio",
            dependencies: [
                "CCursesShim", "CNcurses", "CPNG", "Core", "Media", "Synth", "Engine", "MavinModel",
                "Metrics", "TOMLKit"
            ]),
        .executableTarget(
            name: "MavinCLI",
            dependencies: [
                "Core", "Tensor", "Media", "Synth", "Metrics", "Studio", "Engine", "MavinModel", "Diffusion",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "Core"], exclude: ["Goldens"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "Tensor", "Core"]),
        .testTarget(name: "SynthTests", dependencies: ["Core", "Synth", "Media"]),
        .testTarget(name: "StudioTests", dependencies: ["Studio", "Media", "Engine", "Core", "MavinModel"]),
        .testTarget(name: "MetricsTests", dependencies: ["Core", "Metrics", "Media", "Tensor"], exclude: ["Goldens"]),
        .testTarget(name: "CLITests", dependencies: ["Core", "Media"]),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Core", "MavinModel", "Diffusion", "Tensor", "Engine", "Media", "Synth", "Metrics"],
            exclude: ["Goldens"])
    ],
    swiftLanguageModes: [.v5]
)
