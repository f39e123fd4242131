package dev.dmalab.iommu;

/**
 * The per-CPU flush queues of a lazy ({@code DMA-FQ}) domain: models {@code struct iova_fq}, {@code queue_iova},
 * {@code fq_ring_free_locked}, {@code fq_flush_iotlb} and {@code fq_flush_timeout} of {@code
 * drivers/iommu/dma-iommu.c} (6.12, validated-iova §8).
 *
 * <p>Each CPU has a ring of 256 slots holding at most 255 entries ({@code (tail + 1) & mask == head} is full). An
 * unmap's IOVA is queued with the domain's current {@code start} count; an entry whose count is below the {@code
 * finish} count has been covered by a completed IOTLB flush and is freed (to the IOVA allocator's {@code
 * free_iova_fast}) oldest first. Queuing first frees what earlier flushes covered, flushes the whole domain if the
 * ring is still full ({@code start++}, invalidate, {@code finish++}) and frees again, appends, and arms the timer
 * unless it is armed. The timer disarms, flushes, and frees every CPU's covered entries.
 *
 * <p>Deliberate differences: the single-queue variant ({@code IOMMU_DMA_OPTS_SINGLE_QUEUE}, 32768 entries and a 1 s
 * timeout, for "shadow on flush" IOMMUs) is not modelled; page-table freelists are not kept (no table memory).
 */
public final class FlushQueue {
    /** {@code IOVA_FQ_SIZE}: ring slots; one is always empty. */
    public static final int SIZE = 256;
    /** {@code IOVA_DEFAULT_FQ_TIMEOUT}, milliseconds. */
    public static final int TIMEOUT_MS = 10;

    /** What a flush does and where freed IOVAs go: the domain's IOTLB invalidation and allocator. */
    public interface Owner {
        /** {@code flush_iotlb_all}: invalidate the domain's IOTLB (every queued entry is now unreachable). */
        void flushIotlbAll();

        /**
         * {@code free_iova_fast(pfn, pages)} on {@code cpu}'s rcache, for an entry queued at {@code queuedNs} whose
         * IOTLB invalidation completed at {@code invalidatedNs}.
         */
        void free(long pfn, long pages, long queuedNs, long invalidatedNs, int cpu);
    }

    private static final int MASK = SIZE - 1;

    private final long[] pfn;
    private final long[] pages;
    private final long[] counter;
    private final long[] queuedNs;
    private final int[] head;
    private final long[] coveredNs;
    private int timerCpu;
    private final int[] tail;
    private final int cpus;
    private final Owner owner;
    private final TimerModel timers;
    private long startCnt;
    private long finishCnt;
    private boolean timerOn;
    private long timerDueNs = Long.MAX_VALUE;
    private long flushes;
    private long fullFlushes;
    private long timerFlushes;

    public FlushQueue(int cpus, Owner owner, TimerModel timers) {
        this.cpus = cpus;
        this.owner = owner;
        this.timers = timers;
        this.pfn = new long[cpus * SIZE];
        this.pages = new long[cpus * SIZE];
        this.counter = new long[cpus * SIZE];
        this.queuedNs = new long[cpus * SIZE];
        this.coveredNs = new long[cpus * SIZE];
        this.head = new int[cpus];
        this.tail = new int[cpus];
    }

    private boolean full(int cpu) {
        return ((tail[cpu] + 1) & MASK) == head[cpu];
    }

    /** Entries waiting on every CPU's ring: unmapped IOVAs the IOMMU may still translate. */
    public int queued() {
        int n = 0;
        for (int c = 0; c < cpus; c++) {
            n += queued(c);
        }
        return n;
    }

    /** When the oldest waiting entry was queued (its unmap), or {@link Long#MAX_VALUE} when none waits. */
    public long oldestQueuedNs() {
        long oldest = Long.MAX_VALUE;
        for (int c = 0; c < cpus; c++) {
            for (int i = head[c]; i != tail[c]; i = (i + 1) & MASK) {
                oldest = Math.min(oldest, queuedNs[c * SIZE + i]);
            }
        }
        return oldest;
    }

    /** Entries waiting on {@code cpu}'s ring. */
    public int queued(int cpu) {
        return (tail[cpu] - head[cpu]) & MASK;
    }

    /** {@code fq_ring_free_locked}: frees the covered entries of {@code cpu}'s ring, oldest first. */
    private void ringFree(int cpu, int freeOnCpu) {
        int base = cpu * SIZE;
        while (head[cpu] != tail[cpu]) {
            int i = base + head[cpu];
            if (counter[i] >= finishCnt) {
                break;
            }
            owner.free(pfn[i], pages[i], queuedNs[i], coveredNs[i], freeOnCpu);
            head[cpu] = (head[cpu] + 1) & MASK;
        }
    }

    /** {@code fq_flush_iotlb}, completing at {@code nowNs}. */
    private void flushIotlb(long nowNs) {
        startCnt++;
        // every entry queued so far is covered by this flush: the end of its exposure
        for (int c = 0; c < cpus; c++) {
            for (int h = head[c]; h != tail[c]; h = (h + 1) & MASK) {
                int i = c * SIZE + h;
                if (coveredNs[i] < 0) {
                    coveredNs[i] = nowNs;
                }
            }
        }
        owner.flushIotlbAll();
        finishCnt++;
        flushes++;
    }

    /** {@code queue_iova}: defers the free of {@code pages} granules at {@code iovaPfn}, unmapped on {@code cpu}. */
    public void queue(long iovaPfn, long npages, int cpu, long nowNs) {
        ringFree(cpu, cpu);
        if (full(cpu)) {
            fullFlushes++;
            flushIotlb(nowNs);
            ringFree(cpu, cpu);
        }
        int i = cpu * SIZE + tail[cpu];
        tail[cpu] = (tail[cpu] + 1) & MASK;
        pfn[i] = iovaPfn;
        pages[i] = npages;
        counter[i] = startCnt;
        queuedNs[i] = nowNs;
        coveredNs[i] = -1;
        if (!timerOn) {
            timerOn = true;
            timerCpu = cpu;
            timerDueNs = timers.expiryNs(nowNs, TIMEOUT_MS);
        }
    }

    /** When the armed timer fires, or {@link Long#MAX_VALUE}. */
    public long timerDueNs() {
        return timerOn ? timerDueNs : Long.MAX_VALUE;
    }

    /**
     * {@code fq_flush_timeout}, run at its due time: disarm, flush, free every CPU's covered entries. The timer runs
     * on the CPU that armed it, so the frees go to that CPU's rcache.
     */
    public void timeout() {
        long now = timerDueNs;
        timerOn = false;
        timerDueNs = Long.MAX_VALUE;
        timerFlushes++;
        flushIotlb(now);
        for (int c = 0; c < cpus; c++) {
            ringFree(c, timerCpu);
        }
    }

    public long startCount() {
        return startCnt;
    }

    public long finishCount() {
        return finishCnt;
    }

    /** IOTLB flushes of the whole domain so far. */
    public long flushes() {
        return flushes;
    }

    /** Flushes forced by a full ring. */
    public long fullFlushes() {
        return fullFlushes;
    }

    /** Flushes run by the timer. */
    public long timerFlushes() {
        return timerFlushes;
    }
}
