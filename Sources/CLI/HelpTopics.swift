// HelpTopics: `ablate help TOPIC…` checked against the command tree, so an unknown topic is an error.
import ArgumentParser

/// The topics `ablate help` knows: every subcommand path of the command tree (`local`, `data synth`, …).
public enum HelpTopics {
    /// The message for `arguments` (the command line without the program name) when it asks `help` about a topic
    /// that is not a command — `ablate: no help topic 'logs'; topics: local, coordinator, …` — else nil.
    public static func unknownTopic(in arguments: [String], root: any ParsableCommand.Type = Ablate.self) -> String? {
        guard arguments.first == "help", arguments.count > 1 else { return nil }
        var command = root
        var path: [String] = []
        for word in arguments.dropFirst() {
            if word.hasPrefix("-") { continue }
            let children = command.configuration.subcommands
            var found: (any ParsableCommand.Type)? = nil
            for child in children where name(of: child) == word { found = child }
            guard let next = found else {
                var known: [String] = []
                for child in children where child.configuration.shouldDisplay { known.append(name(of: child)) }
                let topic = (path + [word]).joined(separator: " ")
                let list = known.isEmpty ? "none below '\(path.joined(separator: " "))'" : known.joined(separator: ", ")
                return "ablate: no help topic '\(topic)'; topics: \(list)"
            }
            command = next
            path.append(word)
        }
        return nil
    }

    private static func name(of command: any ParsableCommand.Type) -> String {
        command.configuration.commandName ?? command._commandName
    }
}
