package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code dmalab bench} end to end, in-process: the kernel tool's option checks, the output lines, and which path the
 * modelled calls took (read from the model's counters, never from the timings, which are not asserted beyond being
 * positive).
 */
class BenchCommandTest {
    static final Pattern PAIRS = Pattern.compile("dmalab: ([0-9,]+) map\\+unmap pairs in [0-9.]+ s of host time"
            + " \\([0-9,]+ pairs/s\\); per call, ns: map ([0-9.]+) \\(sd [0-9.]+\\), unmap ([0-9.]+) \\(sd [0-9.]+\\);"
            + " an empty timed region reads [0-9]+ ns");

    /** A one-second run without warm-up. */
    static Cli.Result bench(String... args) {
        String[] all = new String[args.length + 5];
        all[0] = "bench";
        all[1] = "-s";
        all[2] = "1";
        all[3] = "--warmup";
        all[4] = "0";
        System.arraycopy(args, 0, all, 5, args.length);
        return Cli.run(all);
    }

    static long pairs(Cli.Result r) {
        Matcher m = PAIRS.matcher(r.out());
        assertThat(m.find()).as("the dmalab figures line in\n%s", r).isTrue();
        return Long.parseLong(m.group(1).replace(",", ""));
    }

    static long counter(Cli.Result r, String name) {
        Matcher m = Pattern.compile(Pattern.quote(name) + " ([0-9,]+)").matcher(r.out());
        assertThat(m.find()).as("counter '%s' in\n%s", name, r).isTrue();
        return Long.parseLong(m.group(1).replace(",", ""));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "-t 0|invalid number of threads, must be in 1-1024",
                "-t 1025|invalid number of threads, must be in 1-1024",
                "-s 0|invalid number of seconds, must be in 1-300",
                "-s 301|invalid number of seconds, must be in 1-300",
                "-x -1|invalid transmit delay, must be in 0-10000000",
                "-x 10000001|invalid transmit delay, must be in 0-10000000",
                "-b 19|invalid dma mask bit, must be in 20-64",
                "-b 65|invalid dma mask bit, must be in 20-64",
                "-d 3|invalid dma direction",
                "-g 0|invalid granule size, must be in 1-1024",
                "-g 1025|invalid granule size, must be in 1-1024",
                "-m 2|invalid map mode, SINGLE_MODE:0, SG_MODE: 1",
                "-n 1|invalid numa node",
                "-t 1024 -g 1024|of buffers: dmalab holds modelled memory in this JVM",
                "--cpus 0|invalid number of CPUs",
                "--device nope|no device 'nope' on x86-q35",
                "-t x|Invalid value for option '-t'"
            })
    void rejectsWhatTheKernelToolRejectsWithOneLineAndExit2(String options, String message) {
        List<String> args = new ArrayList<>(List.of("bench", "-p", "x86-q35"));
        args.addAll(List.of(options.split(" ")));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("dmalab: ").contains(message);
        assertThat(r.err().strip().lines()).hasSize(1);
    }

    @Test
    void printsTheKernelToolsLinesAfterAHeaderSayingWhatIsMeasured() {
        Cli.Result r = bench("-p", "x86-q35");
        assertThat(r.code()).as(r.toString()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines[0])
                .isEqualTo("dmalab bench: dmalab's own cost of the modelled calls on this host (Java, System.nanoTime),"
                        + " not a prediction of the modelled hardware's");
        assertThat(lines[1]).isEqualTo("platform  x86-q35, Linux 6.12, device 0000:00:02.0 (virtio-pci)");
        assertThat(r.out())
                .containsPattern("(?m)^path      dma_map_page_attrs -> dma-direct$")
                .containsPattern("(?m)^          dma_unmap_page_attrs -> dma-direct$")
                .contains("threads   1 modelled kthread on 1 of 1 modelled CPU, interleaved round-robin on one host"
                        + " thread (not parallel)\n")
                .contains("\ndma mapping benchmark(SINGLE_MODE): threads:1 seconds:1 node:-1 dir:BIDIRECTIONAL"
                        + " granule:1\n")
                .containsPattern("(?m)^average map latency\\(us\\):[0-9]+\\.[0-9] standard deviation:[0-9]+\\.[0-9]$")
                .containsPattern(
                        "(?m)^average unmap latency\\(us\\):[0-9]+\\.[0-9] standard deviation:[0-9]+\\.[0-9]$");
        Matcher m = PAIRS.matcher(r.out());
        assertThat(m.find()).isTrue();
        assertThat(Long.parseLong(m.group(1).replace(",", ""))).isPositive();
        assertThat(Double.parseDouble(m.group(2))).isPositive();
        assertThat(Double.parseDouble(m.group(3))).isPositive();
        assertThat(counter(r, "swiotlb bounced maps")).isZero();
    }

    @Test
    void swiotlbForceBouncesEveryMapping() {
        Cli.Result r = bench("-p", "x86-q35", "--cmdline", "swiotlb=force", "-d", "1");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("[swiotlb=force]").contains("bounced to slot phys");
        long pairs = pairs(r);
        assertThat(pairs).isPositive();
        assertThat(counter(r, "swiotlb bounced maps")).isEqualTo(pairs);
    }

    @Test
    void theIommuServesEveryMappingOnVtd() {
        Cli.Result r = bench("-p", "x86-q35-vtd");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("path      dma_map_page_attrs -> dma-iommu");
        long pairs = pairs(r);
        assertThat(pairs).isPositive();
        assertThat(counter(r, "IOMMU unmaps completed"))
                .as("strict: each unmap invalidates")
                .isEqualTo(pairs);
        assertThat(counter(r, "swiotlb bounced maps")).isZero();
    }

    @Test
    void threadsRunOnTheirOwnModelledCpusAndSgModeMapsScatterlists() {
        Cli.Result r = bench("-p", "x86-q35-vtd-lazy", "-t", "4", "--cpus", "2", "-m", "sg", "-g", "4", "-d", "2");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out())
                .contains("threads   4 modelled kthreads on 2 of 2 modelled CPUs")
                .contains("path      dma_map_sg_attrs -> dma-iommu")
                .contains("dma mapping benchmark(SG_MODE): threads:4 seconds:1 node:-1 dir:FROM_DEVICE granule:4");
        assertThat(pairs(r)).isPositive();
    }

    @Test
    void xenDom0MapsThroughSwiotlbXen() {
        Cli.Result r = bench("-p", "x86-xen-pv-dom0", "-b", "64");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out())
                .contains("path      dma_map_page_attrs -> xen_swiotlb_dma_ops")
                .contains("no bounce");
        assertThat(counter(r, "swiotlb bounced maps")).isZero();
        // the kernel tool's default 32-bit mask cannot reach a PV dom0's machine frames above 4 GiB: every map bounces
        Cli.Result b32 = bench("-p", "x86-xen-pv-dom0");
        assertThat(b32.code()).as(b32.toString()).isZero();
        assertThat(counter(b32, "swiotlb bounced maps")).isEqualTo(pairs(b32));
    }

    @Test
    void aFailedMappingIsReportedWithExit1AndNoFigures() {
        Cli.Result r = bench("-p", "x86-q35", "--cmdline", "swiotlb=128,force", "-t", "100");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.out())
                .contains("dma_map_benchmark: dma_map_single failed on 0000:00:02.0")
                .contains("swiotlb buffer is full")
                .contains("dmalab: the modelled platform failed a mapping after 64 map+unmap pairs")
                .doesNotContain("average map latency");
    }

    @Test
    void aMaskTheKernelRefusesIsExit1() {
        Cli.Result r = bench("-p", "x86-q35", "-b", "20");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("dma_map_benchmark: failed to set dma_mask on device 0000:00:02.0");
    }

    @Test
    void theCheckerCanBeAttachedAndStaysSilent() {
        Cli.Result r = bench("-p", "x86-q35", "--check");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains(", DMA checker attached").contains("DMA checker: no findings");
    }
}
