# Writes Sources/Backbone/ImageNetClasses.swift from torchvision's list of the 1000 ILSVRC-2012 class names
# (torchvision/models/_meta.py, _IMAGENET_CATEGORIES), read as text from the wheel without importing it.
# Run: python3 scripts/reference/imagenet-class-names.py  (downloads torchvision with pip, --no-deps)
import ast, glob, subprocess, sys, tempfile, zipfile

folder = tempfile.mkdtemp()
subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, "torchvision==0.29.2"], check=True)
wheel = glob.glob(folder + "/torchvision-*.whl")[0]
source = zipfile.ZipFile(wheel).read("torchvision/models/_meta.py").decode()
tree = ast.parse(source)
names = next(ast.literal_eval(node.value) for node in tree.body
             if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_IMAGENET_CATEGORIES")
assert len(names) == 1000 and len(set(names)) == 1000
assert all('"""' not in name and "\\" not in name for name in names)
header = ["// The 1000 ILSVRC-2012 class names in class-index order, as torchvision 0.29.2 lists them",
          "// (torchvision/models/_meta.py, _IMAGENET_CATEGORIES; BSD-3-Clause, Copyright (c) Soumith Chintala 2016).",
          "// Made by scripts/reference/imagenet-class-names.py; do not edit by hand.", "",
          "/// The ImageNet classes the EfficientNet-Lite classifiers answer with, index 0 first.",
          "public enum ImageNetClasses {",
          '    public static let names: [String] = list.split(separator: "\\n").map(String.init)', "",
          "    /// One name a line.",
          '    private static let list = """']
open("Sources/Backbone/ImageNetClasses.swift", "w").write("\n".join(header + names + ['"""', "}", ""]))
