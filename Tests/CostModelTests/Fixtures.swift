import Diagnostics
import CostModel
import Foundation
import HardwareModel

/// Model shapes written out in the tests (from the models' published configs), so the hand
/// calculations below do not depend on the shipped profile files.
enum Fixtures {
    static func model(_ json: String) -> ModelProfile {
        try! StrictJSON.decode(ModelProfile.self, from: Data(json.utf8), file: "fixture")
    }

    static func dense(name: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int, ffn: Int, vocab: Int,
                      tied: Bool = false, attention: String) -> ModelProfile {
        model("""
        {"schemaVersion": 1, "name": "\(name)", "displayName": "\(name)", "layers": \(layers), "hiddenSize": \(hidden),
         "heads": \(heads), "kvHeads": \(kvHeads), "headDim": \(hidden / heads), "attention": "\(attention)",
         "ffnSize": \(ffn), "ffn": "gated", "vocabSize": \(vocab), "tiedEmbeddings": \(tied), "maxContextTokens": 8192,
         "source": "test fixture"}
        """)
    }

    static let llama2_7b = dense(name: "llama-2-7b", layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000, attention: "mha")
    static let llama3_8b = dense(name: "llama-3-8b", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, attention: "gqa")
    static let llama3_70b = dense(name: "llama-3-70b", layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 128256, attention: "gqa")
    static let llama3_70b_mha = dense(name: "llama-3-70b-mha", layers: 80, hidden: 8192, heads: 64, kvHeads: 64, ffn: 28672, vocab: 128256, attention: "mha")

    static let mixtral = model("""
    {"schemaVersion": 1, "name": "mixtral-8x7b", "displayName": "Mixtral 8x7B", "layers": 32, "hiddenSize": 4096,
     "heads": 32, "kvHeads": 8, "headDim": 128, "attention": "gqa", "ffnSize": 14336, "ffn": "gated",
     "moe": {"experts": 8, "activeExperts": 2, "sharedExperts": 0, "expertFFNSize": 14336, "denseLayers": 0},
     "vocabSize": 32000, "tiedEmbeddings": false, "maxContextTokens": 32768, "source": "test fixture"}
    """)

    static let deepseekV3 = model("""
    {"schemaVersion": 1, "name": "deepseek-v3", "displayName": "DeepSeek-V3", "layers": 61, "hiddenSize": 7168,
     "heads": 128, "kvHeads": 128, "headDim": 128, "attention": "mla",
     "mla": {"qLoraRank": 1536, "kvLoraRank": 512, "ropeHeadDim": 64, "nopeHeadDim": 128, "vHeadDim": 128},
     "ffnSize": 18432, "ffn": "gated",
     "moe": {"experts": 256, "activeExperts": 8, "sharedExperts": 1, "expertFFNSize": 2048, "denseLayers": 3},
     "vocabSize": 129280, "tiedEmbeddings": false, "maxContextTokens": 163840, "source": "test fixture"}
    """)

    static let h100 = try! StrictJSON.decode(DeviceProfile.self, contentsOf: repoRoot + "/hardware-profiles/devices/nvidia-h100-sxm.json")

    /// The H100 as a host whose measured kernels price it (`ExecutionModel.measuredKernels`):
    /// the profile's measured figures, set by a test, take effect; without any it is the roofline.
    static let calibratedH100: DeviceProfile = {
        var d = h100
        d.executionModel = .measuredKernels
        return d
    }()

    /// A round-number device class so that hand calculations stay simple: no fall-off, no overheads.
    static let idealClass = DeviceClassProfile(name: "ideal", computeFraction: 1, bandwidthFraction: 1, halfComputeRows: 0,
                                               halfBandwidthBytes: 0, kernelOverheadSeconds: 0, stepOverheadSeconds: 0,
                                               fittedOn: "test")

    static let nvlink = try! StrictJSON.decode(InterconnectProfile.self, from: Data("""
    {"schemaVersion": 1, "name": "link", "displayName": "test link", "kind": "nvlink",
     "bandwidthBytesPerSecondPerDirection": 450e9, "latencySeconds": 2e-6, "achievableFraction": 1,
     "sources": {"bandwidthBytesPerSecondPerDirection": {"kind": "estimated", "reference": "test"},
                 "latencySeconds": {"kind": "estimated", "reference": "test"},
                 "achievableFraction": {"kind": "estimated", "reference": "test"}}}
    """.utf8), file: "fixture")

    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func deployment(_ model: ModelProfile, tp: Int = 1, precision: Precision = Precision(),
                           deviceClass: DeviceClassProfile = idealClass) -> Deployment {
        try! Deployment(model: model, device: h100, deviceClass: deviceClass, tensorParallel: tp, precision: precision,
                        scaleUpLink: nvlink, scaleOutLink: nvlink)
    }

    static func operators(_ d: Deployment, _ step: StepWorkload) -> [Operator] {
        var ops: [Operator] = []
        d.forEachOperator(in: step) { ops.append($0) }
        return ops
    }
}

extension Double {
    func isClose(to other: Double, relative: Double = 1e-9) -> Bool {
        abs(self - other) <= relative * max(abs(self), abs(other))
    }
}
