/// The version of the tool: in --version, the User-Agent and model files.
public let imgclsVersion = "0.1.0"
