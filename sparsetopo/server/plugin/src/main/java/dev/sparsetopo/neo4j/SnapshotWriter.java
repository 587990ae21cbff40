package dev.sparsetopo.neo4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.Stream;

import org.neo4j.graphdb.Label;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.NotFoundException;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.RelationshipType;
import org.neo4j.graphdb.Transaction;
import org.neo4j.exceptions.KernelException;
import org.neo4j.internal.kernel.api.TokenWrite;
import org.neo4j.internal.kernel.api.Write;
import org.neo4j.kernel.api.KernelTransaction;
import org.neo4j.kernel.impl.coreapi.InternalTransaction;
import org.neo4j.values.storable.Value;
import org.neo4j.values.storable.Values;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;
import org.neo4j.procedure.UserFunction;

/**
 * Server-side writer of sparsetopo snapshots: a layer's diff arrives as packed little-endian
 * byte arrays and is written with the Core API inside the caller's transaction, which the
 * client starts with the lease fence (docs/decisions/0003-writer-lease.md). The data model is
 * the Cypher writer's (docs/data-model.md): SYNAPSE {run_id, layer, born, died, sign} and
 * WeightBlock {run_id, seq, layer, chunk, src, dst, w}, with the same property types (integers
 * as long, weights as double). Every procedure checks that what it touches is what the client
 * expects and fails the transaction otherwise.
 */
public class SnapshotWriter {

    /**
     * Protocol version of the whole plugin (these procedures and {@link Overlap}); the client
     * uses the plugin only when its own version is equal. 2: adds sparsetopo.overlap.
     */
    public static final String VERSION = "2";

    private static final RelationshipType SYNAPSE = RelationshipType.withName("SYNAPSE");
    private static final RelationshipType HAS_WEIGHTS = RelationshipType.withName("HAS_WEIGHTS");
    private static final Label NEURON = Label.label("Neuron");
    private static final Label SNAPSHOT = Label.label("Snapshot");
    private static final Label WEIGHT_BLOCK = Label.label("WeightBlock");

    @Context
    public Transaction tx;

    /** Ids of the relationships a call created (int64 little-endian) and their number. */
    public static class Created {
        public byte[] ids;
        public long n;

        public Created(byte[] ids, long n) {
            this.ids = ids;
            this.n = n;
        }
    }

    /** How many entities a call changed or created. */
    public static class Count {
        public long n;

        public Count(long n) {
            this.n = n;
        }
    }

    @UserFunction("sparsetopo.version")
    @Description("The protocol version of sparsetopo's server plugin (snapshot writer, overlap).")
    public String version() {
        return VERSION;
    }

    @Procedure(name = "sparsetopo.births", mode = Mode.WRITE)
    @Description("Create SYNAPSE relationships born at snapshot `seq` of one layer. srcNodes and "
            + "dstNodes: the internal ids of the source and target groups' neurons by index "
            + "(int64); src, dst: indices into them (int32); sign: int8 (+1/-1). Yields the new "
            + "relationships' ids (int64) in input order.")
    public Stream<Created> births(
            @Name("runId") long runId,
            @Name("layer") String layer,
            @Name("seq") long seq,
            @Name("srcNodes") byte[] srcNodes,
            @Name("dstNodes") byte[] dstNodes,
            @Name("src") byte[] src,
            @Name("dst") byte[] dst,
            @Name("sign") byte[] sign) {
        Node[] from = neurons(runId, longs(srcNodes), "srcNodes");
        Node[] to = neurons(runId, longs(dstNodes), "dstNodes");
        int[] s = ints(src, "src");
        int[] t = ints(dst, "dst");
        if (t.length != s.length || sign.length != s.length) {
            throw new IllegalArgumentException("src, dst and sign differ in length: "
                    + s.length + ", " + t.length + ", " + sign.length);
        }
        ByteBuffer out = ByteBuffer.allocate(8 * s.length).order(ByteOrder.LITTLE_ENDIAN);
        // The hot loop goes through the kernel API: tokens and values are resolved once, not
        // per property as the Core API does.
        KernelTransaction ktx = ((InternalTransaction) tx).kernelTransaction();
        Write write;
        int type;
        int kRun;
        int kLayer;
        int kBorn;
        int kSign;
        try {
            write = ktx.dataWrite();
            TokenWrite tokens = ktx.tokenWrite();
            type = tokens.relationshipTypeGetOrCreateForName("SYNAPSE");
            kRun = tokens.propertyKeyGetOrCreateForName("run_id");
            kLayer = tokens.propertyKeyGetOrCreateForName("layer");
            kBorn = tokens.propertyKeyGetOrCreateForName("born");
            kSign = tokens.propertyKeyGetOrCreateForName("sign");
        } catch (KernelException e) {
            throw new IllegalStateException("cannot resolve the SYNAPSE tokens", e);
        }
        long[] fromIds = new long[from.length];
        long[] toIds = new long[to.length];
        for (int i = 0; i < from.length; i++) {
            fromIds[i] = from[i].getId();
        }
        for (int i = 0; i < to.length; i++) {
            toIds[i] = to[i].getId();
        }
        Value run = Values.longValue(runId);
        Value name = Values.stringValue(layer);
        Value born = Values.longValue(seq);
        Value plus = Values.longValue(1L);
        Value minus = Values.longValue(-1L);
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 0 || s[i] >= from.length || t[i] < 0 || t[i] >= to.length) {
                throw new IllegalArgumentException("edge " + i + " (" + s[i] + " -> " + t[i]
                        + ") lies outside the groups (" + from.length + ", " + to.length + ")");
            }
            if (sign[i] != 1 && sign[i] != -1) {
                throw new IllegalArgumentException("sign of edge " + i + " is " + sign[i]);
            }
            long r;
            try {
                r = write.relationshipCreate(fromIds[s[i]], type, toIds[t[i]]);
                write.relationshipSetProperty(r, kRun, run);
                write.relationshipSetProperty(r, kLayer, name);
                write.relationshipSetProperty(r, kBorn, born);
                write.relationshipSetProperty(r, kSign, sign[i] > 0 ? plus : minus);
            } catch (KernelException e) {
                throw new IllegalStateException("creating SYNAPSE " + i + " failed", e);
            }
            out.putLong(r);
        }
        return Stream.of(new Created(out.array(), s.length));
    }

    @Procedure(name = "sparsetopo.deaths", mode = Mode.WRITE)
    @Description("Set died = seq on alive SYNAPSE relationships of one layer of one run, given "
            + "their internal ids (int64). Fails unless every one of them matches.")
    public Stream<Count> deaths(
            @Name("runId") long runId,
            @Name("layer") String layer,
            @Name("seq") long seq,
            @Name("rels") byte[] rels) {
        long[] ids = longs(rels);
        Long died = seq;
        for (long id : ids) {
            Relationship r;
            try {
                r = tx.getRelationshipById(id);
            } catch (NotFoundException e) {
                throw new IllegalStateException("relationship " + id + " does not exist", e);
            }
            if (!r.isType(SYNAPSE)
                    || !Long.valueOf(runId).equals(r.getProperty("run_id", null))
                    || !layer.equals(r.getProperty("layer", null))
                    || r.hasProperty("died")) {
                throw new IllegalStateException("relationship " + id
                        + " is not an alive SYNAPSE of layer " + layer + " of run " + runId);
            }
            r.setProperty("died", died);
        }
        return Stream.of(new Count(ids.length));
    }

    @Procedure(name = "sparsetopo.weights", mode = Mode.WRITE)
    @Description("Create one WeightBlock of an incomplete snapshot: src, dst as int32, w as "
            + "float32 (stored as the Cypher writer stores them: long[] and double[]).")
    public Stream<Count> weights(
            @Name("snapshot") Node snapshot,
            @Name("runId") long runId,
            @Name("seq") long seq,
            @Name("layer") String layer,
            @Name("chunk") long chunk,
            @Name("src") byte[] src,
            @Name("dst") byte[] dst,
            @Name("w") byte[] w) {
        if (!snapshot.hasLabel(SNAPSHOT)
                || !Long.valueOf(runId).equals(snapshot.getProperty("run_id", null))
                || !Long.valueOf(seq).equals(snapshot.getProperty("seq", null))
                || !Boolean.FALSE.equals(snapshot.getProperty("complete", null))) {
            throw new IllegalStateException("node " + snapshot.getElementId()
                    + " is not the incomplete snapshot " + seq + " of run " + runId);
        }
        int[] s = ints(src, "src");
        int[] t = ints(dst, "dst");
        float[] f = floats(w);
        if (t.length != s.length || f.length != s.length) {
            throw new IllegalArgumentException("src, dst and w differ in length");
        }
        long[] sl = new long[s.length];
        long[] tl = new long[t.length];
        double[] wd = new double[f.length];
        for (int i = 0; i < s.length; i++) {
            sl[i] = s[i];
            tl[i] = t[i];
            wd[i] = f[i];
        }
        Node block = tx.createNode(WEIGHT_BLOCK);
        block.setProperty("run_id", runId);
        block.setProperty("seq", seq);
        block.setProperty("layer", layer);
        block.setProperty("chunk", chunk);
        block.setProperty("src", sl);
        block.setProperty("dst", tl);
        block.setProperty("w", wd);
        snapshot.createRelationshipTo(block, HAS_WEIGHTS);
        return Stream.of(new Count(1));
    }

    private Node[] neurons(long runId, long[] ids, String what) {
        Node[] nodes = new Node[ids.length];
        Long run = runId;
        for (int i = 0; i < ids.length; i++) {
            Node n;
            try {
                n = tx.getNodeById(ids[i]);
            } catch (NotFoundException e) {
                throw new IllegalStateException(what + "[" + i + "]: node " + ids[i]
                        + " does not exist", e);
            }
            if (!n.hasLabel(NEURON) || !run.equals(n.getProperty("run_id", null))
                    || !Long.valueOf(i).equals(n.getProperty("index", null))) {
                throw new IllegalStateException(what + "[" + i + "]: node " + ids[i]
                        + " is not neuron " + i + " of run " + runId);
            }
            nodes[i] = n;
        }
        return nodes;
    }

    private static long[] longs(byte[] b) {
        if (b.length % 8 != 0) {
            throw new IllegalArgumentException("int64 array of " + b.length + " bytes");
        }
        long[] out = new long[b.length / 8];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    private static int[] ints(byte[] b, String what) {
        if (b.length % 4 != 0) {
            throw new IllegalArgumentException(what + ": int32 array of " + b.length + " bytes");
        }
        int[] out = new int[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    private static float[] floats(byte[] b) {
        if (b.length % 4 != 0) {
            throw new IllegalArgumentException("float32 array of " + b.length + " bytes");
        }
        float[] out = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        if (!Arrays.stream(toDoubles(out)).allMatch(Double::isFinite)) {
            throw new IllegalArgumentException("w holds NaN or Inf");
        }
        return out;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
