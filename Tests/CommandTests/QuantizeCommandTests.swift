import Foundation
import SampleImages
import Testing

/// `imgcls quantize` on a small trained model: the int8 model is written, `evaluate` measures exactly the accuracy
/// it recorded, `predict` gives the same class as the float model wherever the recorded agreement says, and what
/// cannot be quantized is refused with the reason.
@Suite struct QuantizeCommandTests {
    @Test(.timeLimit(.minutes(3))) func anInt8ModelKeepsItsRecordedAccuracyAndAgreement() throws {
        let folder = TemporaryFolder()
        let workspace = folder.file("data")
        try SampleImages.writeTwoClassFolder(workspace + "/train", perClass: 12)
        try SampleImages.writeTwoClassFolder(workspace + "/validation", perClass: 8, seed: 99)
        let trained = try Imgcls.run(["train", "--workspace", workspace, "--name", "m", "--input-size", "32", "--width", "8",
                                      "--blocks", "1", "--batch-size", "8", "--epochs", "3", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")

        let quantized = try Imgcls.run(["quantize", "--workspace", workspace, "--model", "m", "--json"])
        #expect(quantized.status == 0, "\(quantized.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(quantized.stdout.utf8)) as? [String: Any], "\(quantized.stdout)")
        let file = try #require(summary["modelFile"] as? String)
        #expect(file.hasSuffix("models/m-int8/model.safetensors") && FileManager.default.fileExists(atPath: file))
        #expect((summary["int8Convolutions"] as? Int ?? 0) > 0 && (summary["calibrationImages"] as? Int ?? 0) >= 24, "\(summary)")
        let int8Accuracy = try #require(summary["int8Accuracy"] as? Double)
        let floatAccuracy = try #require(summary["floatAccuracy"] as? Double)
        #expect(floatAccuracy - int8Accuracy <= 0.01)

        // The recorded accuracy is what evaluate measures on the int8 model.
        let evaluated = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "m-int8", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        #expect(abs((metrics["accuracy"] as? Double ?? -1) - int8Accuracy) < 1e-6, "\(metrics["accuracy"] ?? "none") vs \(int8Accuracy)")

        // Without VNNI (oneDNN capped at AVX2) the int8 model runs with 7-bit weights and keeps its accuracy.
        let avx2 = try Imgcls.run(["evaluate", "--workspace", workspace, "--model", "m-int8", "--json"], environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"])
        let avx2Metrics = try #require(try JSONSerialization.jsonObject(with: Data(avx2.stdout.utf8)) as? [String: Any], "\(avx2.stderr)")
        #expect((avx2Metrics["accuracy"] as? Double ?? -1) >= int8Accuracy - 0.1, "\(avx2Metrics["accuracy"] ?? "none")")

        // Top-1 agreement with the float model on the validation pictures, as recorded.
        let pictures = try FileManager.default.subpathsOfDirectory(atPath: workspace + "/validation")
            .filter { $0.hasSuffix(".png") }.sorted().map { workspace + "/validation/" + $0 }
        func classes(_ model: String) throws -> [Substring] {
            let run = try Imgcls.run(["predict", "--workspace", workspace, "--model", model, "--csv"] + pictures)
            #expect(run.status == 0, "\(run.stderr)")
            return run.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }
        }
        let (float, int8) = (try classes("m"), try classes("m-int8"))
        #expect(float.count == pictures.count && int8.count == pictures.count)
        let agreeing = zip(float, int8).filter { $0 == $1 }.count
        #expect(abs(Double(agreeing) / Double(pictures.count) - (summary["agreement"] as? Double ?? -1)) < 1e-6)

        let overwrite = try Imgcls.run(["quantize", "--workspace", workspace, "--model", "m", "--name", "m"])
        #expect(overwrite.status != 0 && overwrite.stderr.contains("would write over the float model"), "\(overwrite.stderr)")
        let again = try Imgcls.run(["quantize", "--workspace", workspace, "--model", "m-int8"])
        #expect(again.status != 0 && again.stderr.contains("already an int8 model"), "\(again.stderr)")
        let onReference = try Imgcls.run(["quantize", "--workspace", workspace, "--model", "m"], environment: ["IMGCLS_KERNELS": "reference"])
        #expect(onReference.status != 0 && onReference.stderr.contains("IMGCLS_KERNELS"), "\(onReference.stderr)")
        let noValidation = TemporaryFolder()
        try SampleImages.writeTwoClassFolder(noValidation.file("data") + "/train", perClass: 4)
        let missing = try Imgcls.run(["quantize", "--workspace", noValidation.file("data"), "--model", workspace + "/models/m/model.safetensors"])
        #expect(missing.status != 0 && missing.stderr.contains("validation"), "\(missing.stderr)")
    }
}
