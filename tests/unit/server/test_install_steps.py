"""`server install` reports Maven's steps as they happen (a real install log, replayed)."""

from __future__ import annotations

from sparsetopo.server.process import MavenSteps

LOG = """\
[INFO] Scanning for projects...
[INFO] ------------------------------------------------------------------------
[INFO] Building sparsetopo-neo4j-plugin 2                                 [1/2]
[INFO] --- maven-resources-plugin:3.3.1:resources (default-resources) @ sparsetopo-neo4j-plugin ---
[INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ sparsetopo-neo4j-plugin ---
Downloading from central: https://repo.maven.apache.org/maven2/org/neo4j/neo4j/5.26.19/neo4j-5.26.19.pom
Downloaded from central: https://repo.maven.apache.org/maven2/org/neo4j/neo4j/5.26.19/neo4j-5.26.19.pom (12 kB at 40 kB/s)
[INFO] --- maven-jar-plugin:3.4.2:jar (default-jar) @ sparsetopo-neo4j-plugin ---
[INFO] Building jar: /home/plugins/sparsetopo-neo4j-plugin-2.jar
[INFO] Building sparsetopo-neo4j-server 1                                 [2/2]
[INFO] --- maven-dependency-plugin:3.6.1:copy-dependencies (server-jars) @ sparsetopo-neo4j-server ---
[INFO] Copying neo4j-5.26.19.jar to /home/lib/neo4j-5.26.19.jar
[INFO] Copying annotations-5.26.19.jar to /home/lib/annotations-5.26.19.jar
[INFO] BUILD SUCCESS
"""


def test_each_maven_step_becomes_one_progress_line():
    steps = MavenSteps()
    said = [s for s in (steps.feed(line) for line in LOG.splitlines()) if s]
    assert said == [
        "building sparsetopo-neo4j-plugin (module 1/2)",
        "building sparsetopo-neo4j-plugin (module 1/2): resources (default-resources)",
        "building sparsetopo-neo4j-plugin (module 1/2): compile (default-compile)",
        "building sparsetopo-neo4j-plugin (module 1/2): compile (default-compile), "
        "1 file(s) downloaded",
        "building sparsetopo-neo4j-plugin (module 1/2): jar (default-jar), 1 file(s) downloaded",
        # the counts are of the whole install so far
        "building sparsetopo-neo4j-server (module 2/2), 1 file(s) downloaded",
        "building sparsetopo-neo4j-server (module 2/2): copy-dependencies (server-jars), "
        "1 file(s) downloaded",
        "building sparsetopo-neo4j-server (module 2/2): copy-dependencies (server-jars), "
        "1 file(s) downloaded, 1 jar(s) copied",
        "building sparsetopo-neo4j-server (module 2/2): copy-dependencies (server-jars), "
        "1 file(s) downloaded, 2 jar(s) copied",
    ]
