import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A fetch as N Spark tasks, one per shard, each calling the imgcls binary: `imgcls fetch ARGS --shard K/N
 * --workspace SHARD_DIR/K`. A shard that exits non-zero (killed, stopped, could not run) fails its task, and
 * Spark runs it again (spark.task.maxFailures; in local mode the F of --master local[N,F]); a rerun continues
 * where the last one stopped. Speculation stays off: two copies of one shard would fetch its URLs twice at
 * once. When every task has succeeded, `imgcls catalog merge` brings the shards into WORKSPACE.
 *
 * Arguments: IMGCLS WORKSPACE SHARD_DIR N MANIFEST... [imgcls fetch options] (run.sh passes them).
 */
public final class FetchShards {
    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            throw new IllegalArgumentException("usage: FetchShards IMGCLS WORKSPACE SHARD_DIR N MANIFEST... [fetch options]");
        }
        String imgcls = args[0], workspace = args[1], shardDir = args[2];
        int n = Integer.parseInt(args[3]);
        ArrayList<String> fetchArguments = new ArrayList<>(Arrays.asList(args).subList(4, args.length));
        SparkConf conf = new SparkConf().setAppName("imgcls fetch, " + n + " shards").set("spark.speculation", "false");
        List<Integer> shards = new ArrayList<>();
        for (int k = 1; k <= n; k++) shards.add(k);
        List<String> done;
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            done = spark.parallelize(shards, n).map(k -> fetchShard(imgcls, shardDir, n, k, fetchArguments)).collect();
        }
        List<String> merge = new ArrayList<>(List.of(imgcls, "catalog", "merge", "--workspace", workspace));
        merge.addAll(done);
        int status = new ProcessBuilder(merge).inheritIO().start().waitFor();
        if (status != 0) throw new IllegalStateException("imgcls catalog merge exited with " + status);
    }

    /** One shard; its output goes to the executor's log. */
    static String fetchShard(String imgcls, String shardDir, int n, int k, List<String> fetchArguments) throws Exception {
        String workspace = shardDir + "/" + k;
        List<String> command = new ArrayList<>(List.of(imgcls, "fetch"));
        command.addAll(fetchArguments);
        command.addAll(List.of("--shard", k + "/" + n, "--workspace", workspace, "--quiet"));
        int status = new ProcessBuilder(command).inheritIO().start().waitFor();
        if (status != 0) {
            throw new IllegalStateException("shard " + k + "/" + n + " exited with " + status + " (75: stopped; 1: could not run)");
        }
        return workspace;
    }
}
