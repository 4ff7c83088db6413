// SweepReplicas: reads a replica (A/A) variant — `replica_of: <variant>` — as a copy of its source variant.
import Yams

/// A replica variant is written `name: {replica_of: source}` and nothing else: it takes exactly the source's
/// resolved settings, command and time limit, and its cells train with other seeds (`ReplicaSeeds`).
enum SweepReplicas {
    static let key = "replica_of"

    /// The `replica_of` entry of a variant's mapping, nil when the variant is an ordinary one.
    static func sourceEntry(of variant: SweepEntry) -> SweepEntry? {
        guard let mapping = variant.value.mapping else { return nil }
        for (keyNode, value) in mapping where keyNode.scalar?.string == key {
            return SweepEntry(key: key, keyNode: keyNode, value: value, path: "\(variant.path).\(key)")
        }
        return nil
    }

    /// The replica written at `entry`, or nil after reporting why it cannot be one.
    /// - Parameters:
    ///   - names: every variant name of the file.
    ///   - variants: the ordinary variants that could be read, by name.
    ///   - replicas: every replica's `replica_of` entry, by the replica's name.
    static func read(
        _ entry: SweepEntry, source: SweepEntry, names: [String], variants: [String: SweepVariant],
        replicas: [String: SweepEntry],
        reader: inout SweepReader
    ) -> SweepVariant? {
        var bad = !SweepVariants.checkName(entry, reader: &reader)
        for other in reader.entries(of: entry.value, path: entry.path) ?? [] where other.key != key {
            reader.report(other, "a replica takes exactly the settings of its source; give replica_of alone")
            bad = true
        }
        guard let name = reader.string(source) else { return nil }
        if name == entry.key {
            reader.report(source, "a variant cannot be a replica of itself")
            return nil
        }
        if let further = replicas[name] {
            let original = further.value.scalar?.string ?? "?"
            reader.report(source, "'\(name)' is itself a replica (of '\(original)'); name '\(original)' instead")
            return nil
        }
        guard let variant = variants[name] else {
            // A source that is written but could not be read has reported its own problems.
            if !names.contains(name) {
                let listed = names.filter { replicas[$0] == nil }.joined(separator: ", ")
                reader.report(source, "'\(name)' is not one of the variants (\(listed))")
            }
            return nil
        }
        guard !bad else { return nil }
        return SweepVariant(
            name: entry.key, overrides: variant.overrides, config: variant.config, command: variant.command,
            timeoutSeconds: variant.timeoutSeconds, replicaOf: name, params: variant.params,
            code: variant.code, execution: variant.execution, inputs: variant.inputs)
    }
}
