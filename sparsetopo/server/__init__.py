"""The managed local Neo4j: settings and paths (:mod:`.config`), the server process
(:mod:`.process`) and the Maven pom that fetches its jars."""
