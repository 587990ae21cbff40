package dev.sparsetopo.neo4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.neo4j.graphdb.Direction;
import org.neo4j.graphdb.Label;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.RelationshipType;
import org.neo4j.graphdb.ResourceIterator;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;

/**
 * The {@code overlap} library query as a procedure: edge overlap and Jaccard index between two
 * snapshots of one run, per layer and overall ('*'), from the snapshots' WeightBlocks.
 *
 * <p>A snapshot's WeightBlocks of one layer hold its edges sorted by (src, dst), split into
 * blocks of at most 250,000 entries numbered by {@code chunk} (both writers write them so); the
 * overlap is one merge of the two sorted key lists, and a shared edge whose weights have
 * different signs (w &gt; 0: +1, else -1, as the writers derive SYNAPSE.sign) is a sign flip.
 * Blocks that are not sorted (not written by sparsetopo's writers) are sorted first. The
 * columns, their order, the rows' order and the error messages are those of
 * sparsetopo/queries/cypher/overlap.cypher, whose answers this must equal.
 */
public class Overlap {

    private static final Label RUN = Label.label("Run");
    private static final Label SNAPSHOT = Label.label("Snapshot");
    private static final Label WEIGHT_BLOCK = Label.label("WeightBlock");
    private static final RelationshipType HAS_LAYER = RelationshipType.withName("HAS_LAYER");

    @Context
    public Transaction tx;

    /** One row of the result: the columns of overlap.cypher. */
    public static class Row {
        public String layer;
        public long n_a;
        public long n_b;
        public long shared;
        public long only_a;
        public long only_b;
        public long sign_flips;
        public double jaccard;

        Row(String layer, long nA, long nB, long shared, long flips) {
            this.layer = layer;
            this.n_a = nA;
            this.n_b = nB;
            this.shared = shared;
            this.only_a = nA - shared;
            this.only_b = nB - shared;
            this.sign_flips = flips;
            long union = nA + nB - shared;
            this.jaccard = union == 0 ? 1.0 : (double) shared / union;
        }
    }

    /** One layer of one snapshot: sorted keys (src << 32 | dst) and the weights' signs. */
    private static final class Edges {
        final long[] keys;
        final boolean[] positive;

        Edges(long[] keys, boolean[] positive) {
            this.keys = keys;
            this.positive = positive;
        }
    }

    @Procedure(name = "sparsetopo.overlap", mode = Mode.READ)
    @Description("Edge overlap and Jaccard index between the complete snapshots at steps step_a "
            + "and step_b of run `run`, per layer and overall ('*', last): the rows of the "
            + "library query overlap.cypher, merged from the snapshots' WeightBlocks. Steps are "
            + "read as Cypher's toInteger() reads them.")
    public Stream<Row> overlap(
            @Name("run") Object run,
            @Name("step_a") Object stepA,
            @Name("step_b") Object stepB) {
        Node runNode = run instanceof String ? tx.findNode(RUN, "name", run) : null;
        if (runNode == null) {
            throw new IllegalArgumentException("no run named " + run + "; runs: " + runNames());
        }
        Object runId = runNode.getProperty("run_id");
        long seqA = seqOf(runNode, runId, stepA);
        long seqB = seqOf(runNode, runId, stepB);
        Map<String, Edges> a = edges(runId, seqA);
        Map<String, Edges> b = edges(runId, seqB);
        List<String> layers = new ArrayList<>();
        for (Relationship r : runNode.getRelationships(Direction.OUTGOING, HAS_LAYER)) {
            layers.add((String) r.getEndNode().getProperty("name"));
        }
        layers.sort(Comparator.naturalOrder());
        Edges none = new Edges(new long[0], new boolean[0]);
        List<Row> rows = new ArrayList<>();
        long nA = 0;
        long nB = 0;
        long shared = 0;
        long flips = 0;
        for (String layer : layers) {
            Edges ea = a.getOrDefault(layer, none);
            Edges eb = b.getOrDefault(layer, none);
            long[] merged = merge(ea, eb);
            rows.add(new Row(layer, ea.keys.length, eb.keys.length, merged[0], merged[1]));
            nA += ea.keys.length;
            nB += eb.keys.length;
            shared += merged[0];
            flips += merged[1];
        }
        rows.add(new Row("*", nA, nB, shared, flips));
        return rows.stream();
    }

    /** Shared keys and sign flips of two sorted key lists, in one pass. */
    static long[] merge(Edges a, Edges b) {
        long[] ka = a.keys;
        long[] kb = b.keys;
        int i = 0;
        int j = 0;
        long shared = 0;
        long flips = 0;
        while (i < ka.length && j < kb.length) {
            long x = ka[i];
            long y = kb[j];
            if (x < y) {
                i++;
            } else if (x > y) {
                j++;
            } else {
                shared++;
                if (a.positive[i] != b.positive[j]) {
                    flips++;
                }
                i++;
                j++;
            }
        }
        return new long[] {shared, flips};
    }

    /** The seq of the run's complete snapshot at `step`, or the overlap.cypher error. */
    private long seqOf(Node runNode, Object runId, Object step) {
        Long wanted = toInteger(step);
        if (wanted != null) {
            try (ResourceIterator<Node> found = tx.findNodes(SNAPSHOT, "run_id", runId, "step",
                    wanted)) {
                while (found.hasNext()) {
                    Node s = found.next();
                    if (Boolean.TRUE.equals(s.getProperty("complete", null))) {
                        return ((Number) s.getProperty("seq")).longValue();
                    }
                }
            }
        }
        List<Long> steps = new ArrayList<>();
        try (ResourceIterator<Node> all = tx.findNodes(SNAPSHOT, "run_id", runId)) {
            while (all.hasNext()) {
                Node s = all.next();
                if (Boolean.TRUE.equals(s.getProperty("complete", null))) {
                    steps.add(((Number) s.getProperty("step")).longValue());
                }
            }
        }
        steps.sort(Comparator.naturalOrder());
        throw new IllegalArgumentException("run " + runNode.getProperty("name")
                + " has no complete snapshot at step " + step + "; steps: " + steps);
    }

    /** Cypher's toInteger(): integers as they are, floats truncated, numeric text parsed. */
    static Long toInteger(Object value) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short
                || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            return Double.isFinite(d) ? (long) d : null;
        }
        if (value instanceof String) {
            String text = ((String) value).trim();
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                try {
                    double d = Double.parseDouble(text);
                    return Double.isFinite(d) ? (long) d : null;
                } catch (NumberFormatException e2) {
                    return null;
                }
            }
        }
        return null;
    }

    private List<String> runNames() {
        List<String> names = new ArrayList<>();
        try (ResourceIterator<Node> runs = tx.findNodes(RUN)) {
            while (runs.hasNext()) {
                Object name = runs.next().getProperty("name", null);
                if (name != null) {
                    names.add(name.toString());
                }
            }
        }
        names.sort(Comparator.naturalOrder());
        return names;
    }

    /** Every layer's edges at snapshot `seq`, from its WeightBlocks (index on run_id, seq). */
    private Map<String, Edges> edges(Object runId, long seq) {
        Map<String, TreeMap<Long, Node>> blocks = new TreeMap<>();
        try (ResourceIterator<Node> found = tx.findNodes(WEIGHT_BLOCK, "run_id", runId, "seq",
                seq)) {
            while (found.hasNext()) {
                Node block = found.next();
                String layer = (String) block.getProperty("layer");
                long chunk = ((Number) block.getProperty("chunk", 0L)).longValue();
                if (blocks.computeIfAbsent(layer, k -> new TreeMap<>()).put(chunk, block) != null) {
                    throw new IllegalStateException("snapshot " + seq + " of run " + runId
                            + " has two WeightBlocks of layer " + layer + " with chunk " + chunk
                            + "; the run is damaged");
                }
            }
        }
        Map<String, Edges> out = new TreeMap<>();
        for (Map.Entry<String, TreeMap<Long, Node>> layer : blocks.entrySet()) {
            out.put(layer.getKey(), layerEdges(layer.getKey(), layer.getValue().values(), seq));
        }
        return out;
    }

    private static Edges layerEdges(String layer, Iterable<Node> blocks, long seq) {
        // one block's arrays at a time: memory is the keys plus one block, not three copies
        long[] keys = new long[0];
        boolean[] positive = new boolean[0];
        boolean sorted = true;
        int n = 0;
        for (Node block : blocks) {
            long[] src = (long[]) block.getProperty("src");
            long[] dst = (long[]) block.getProperty("dst");
            double[] w = (double[]) block.getProperty("w");
            if (dst.length != src.length || w.length != src.length) {
                throw new IllegalStateException("a WeightBlock of layer " + layer + " at seq "
                        + seq + " has src, dst and w of different lengths");
            }
            if (n + src.length > keys.length) {
                int capacity = Math.max(n + src.length, 2 * keys.length);
                keys = Arrays.copyOf(keys, capacity);
                positive = Arrays.copyOf(positive, capacity);
            }
            for (int i = 0; i < src.length; i++, n++) {
                if (src[i] < 0 || src[i] > Integer.MAX_VALUE || dst[i] < 0
                        || dst[i] > Integer.MAX_VALUE) {
                    throw new IllegalStateException("layer " + layer + " at seq " + seq
                            + " holds the edge (" + src[i] + ", " + dst[i]
                            + ") outside 0..2^31-1");
                }
                keys[n] = (src[i] << 32) | dst[i];
                positive[n] = w[i] > 0;
                if (n > 0 && keys[n] <= keys[n - 1]) {
                    sorted = false;
                }
            }
        }
        if (n < keys.length) {
            keys = Arrays.copyOf(keys, n);
            positive = Arrays.copyOf(positive, n);
        }
        if (!sorted) {
            long[] unsorted = keys;
            Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingLong(i -> unsorted[i]));
            long[] sk = new long[n];
            boolean[] sp = new boolean[n];
            for (int i = 0; i < n; i++) {
                sk[i] = keys[order[i]];
                sp[i] = positive[order[i]];
                if (i > 0 && sk[i] == sk[i - 1]) {
                    throw new IllegalStateException("layer " + layer + " at seq " + seq
                            + " lists the edge (" + (sk[i] >>> 32) + ", " + (sk[i] & 0xffffffffL)
                            + ") twice; the run is damaged");
                }
            }
            return new Edges(sk, sp);
        }
        return new Edges(keys, positive);
    }
}
