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
        .target(
            name: "CShim", dependencies: ["CFFmpeg", "CNcurses"],
            cSettings: [.unsafeFlags(["-O2", "-ffast-math"])],
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("ncursesw"), .linkedLibrary("avutil")]),
        .target(name: "Core"),
        .target(name: "Tensor", dependencies: ["CShim", "Core"]),
        .target(name: "Media", dependencies: ["CShim", "CFFmpeg", "CPNG", "Core"]),
        .target(name: "Synth", dependencies: ["Media", "Core"]),
        .target(name: "Metrics", dependencies: ["Tensor", "Media", "CShim", "Core"]),
        .target(name: "Diffusion", dependencies: ["Tensor", "CFFTW"]),
        .target(name: "MavinModel", dependencies: ["Tensor", "Diffusion", "Media", "Core"]),
        .target(
            name: "Engine",
            dependencies: ["MavinModel", "Diffusion", "Tensor", "Media", "Metrics", "Synth", "TOMLKit"]),
        .target(
            name: "Studio",
            dependencies: [
                "CShim", "CNcurses", "CPNG", "Media", "Synth", "Engine", "MavinModel",
                "Metrics", "TOMLKit"
            ]),
        .executableTarget(
            name: "MavinCLI",
            dependencies: [
                "Tensor", "Media", "Synth", "Metrics", "Studio", "Engine", "MavinModel", "Diffusion",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "Core"], exclude: ["Goldens"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "Tensor", "Core"]),
        .testTarget(name: "SynthTests", dependencies: ["Synth", "Media"]),
        .testTarget(name: "StudioTests", dependencies: ["Studio", "Media", "Engine", "Core"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Media", "Tensor"], exclude: ["Goldens"]),
        .testTarget(name: "CLITests", dependencies: ["Core"]),
        .testTarget(
            name: "ModelTests",
            dependencies: ["MavinModel", "Diffusion", "Tensor", "Engine", "Media", "Synth", "Metrics"],
            exclude: ["Goldens"])
    ],
    swiftLanguageModes: [.v5]
)
