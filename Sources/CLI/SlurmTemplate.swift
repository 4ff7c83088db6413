// SlurmTemplate: deploy/slurm/ablate-workers.sbatch built into the binary, for `ablate slurm submit`.

/// The job-array template, byte for byte as in `deploy/slurm/ablate-workers.sbatch` (SlurmLabTests checks it).
enum SlurmTemplate {
    static let text = #"""
        #!/bin/bash
        # ablate-workers.sbatch: Slurm job-array template that starts one Ablate worker per allocated GPU (or one CPU worker
        # when the task has no GPU) against a coordinator that already runs (e.g. ablate-coordinator.service on a lab host).
        # Each array task is one node's worth of workers. They leave on their own after ABLATE_EXIT_WHEN_IDLE seconds
        # without a cell (a lab coordinator never finishes: this ends the array once no sweep has work for it), or once a
        # single-sweep coordinator's sweep is finished; a SIGTERM (scancel, preemption, the time limit) makes them release
        # their cells, which resume elsewhere from their last checkpoint.
        #
        #   sbatch --array=0-3 deploy/slurm/ablate-workers.sbatch        # four nodes' worth of workers
        #   ablate slurm submit --workers 4 --connect tcp://HOST:5555     # the same, with the settings below as options
        #
        # Edit the #SBATCH lines for your cluster (options given to sbatch override them) and set the ABLATE_* variables
        # below in the environment sbatch is called from (it passes them on), or edit their defaults.
        #SBATCH --job-name=ablate-workers
        #SBATCH --nodes=1
        #SBATCH --ntasks=1
        #SBATCH --gres=gpu:4
        #SBATCH --cpus-per-task=16
        #SBATCH --time=12:00:00
        #SBATCH --array=0-1
        #SBATCH --output=ablate-workers-%A_%a.out
        # Stopping. The workers run in the batch step (no srun), so a signal must reach the batch shell, which forwards it
        # (the trap below): `B:`. Slurm sends SIGTERM this long before the time limit; make it at least
        # ABLATE_STOP_TIMEOUT plus a margin. On `scancel` and on preemption Slurm sends SIGTERM to every process of the job
        # and SIGKILL KillWait seconds later (the preemption's GraceTime where one is set): keep ABLATE_STOP_TIMEOUT below
        # that (KillWait is 30 s unless the cluster sets it; `scontrol show config | grep -i killwait`). A preemption-style
        # stop by hand: `scancel --signal=TERM --batch JOBID_TASK`, then `scancel JOBID_TASK` after the grace.
        #SBATCH --signal=B:TERM@120

        set -euo pipefail

        # --- settings -------------------------------------------------------------------------------------------
        ABLATE=${ABLATE:-ablate}                                        # the binary (module load, or a path)
        COORDINATOR=${ABLATE_COORDINATOR:-tcp://coordinator.lab.example:5555}
        KEYS=${ABLATE_KEYS:-$HOME/.ablate/keys}                         # worker.key (mode 0600) and coordinator.pub
        WORK=${ABLATE_WORK:-${TMPDIR:-/tmp}/ablate-$SLURM_JOB_ID}       # per task: SLURM_JOB_ID differs per array task
        STOP_TIMEOUT=${ABLATE_STOP_TIMEOUT:-20}                         # seconds a stop may take to release the cells
        EXIT_WHEN_IDLE=${ABLATE_EXIT_WHEN_IDLE:-300}                    # leave after this long without a cell
        read -r -a EXTRA <<<"${ABLATE_WORKER_ARGS:-}"                   # more worker options, split on spaces
        # ---------------------------------------------------------------------------------------------------------

        # The label `ablate status` shows next to each worker: the array job and task (or the plain job) id.
        if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then
            label="slurm:${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
        else
            label="slurm:$SLURM_JOB_ID"
        fi
        host=$(hostname -s)

        # The GPUs Slurm gave this task: CUDA_VISIBLE_DEVICES lists them as the task sees them (e.g. "0,1"), one worker
        # each; SLURM_JOB_GPUS has the node's own indices, which name the workers (unique on the node across tasks).
        IFS=, read -r -a gpus <<<"${CUDA_VISIBLE_DEVICES:-}"
        IFS=, read -r -a node_gpus <<<"${SLURM_JOB_GPUS:-${CUDA_VISIBLE_DEVICES:-}}"
        cpus=${SLURM_CPUS_PER_TASK:-1}
        if ((${#gpus[@]})); then
            threads=$((cpus / ${#gpus[@]}))
        else
            threads=$cpus
        fi
        ((threads >= 1)) || threads=1

        pids=()
        stop() {
            echo "stopping ${#pids[@]} worker(s)"
            kill -TERM "${pids[@]}" 2>/dev/null || true
        }
        trap stop TERM INT

        # start NAME DIR [worker options]: one worker in the background (its CPU binding is the task's, inherited).
        start() {
            local name=$1 dir=$2
            shift 2
            mkdir -p "$dir"
            "$ABLATE" worker \
                --connect "$COORDINATOR" --name "$name" --label "$label" \
                --threads "$threads" \
                --work-dir "$dir" --cache-dir "$WORK/prefix-cache" \
                --curve-secret-key "$KEYS/worker.key" --server-public-key "$KEYS/coordinator.pub" \
                --stop-timeout "$STOP_TIMEOUT" --exit-when-finished --exit-when-idle "$EXIT_WHEN_IDLE" \
                "$@" ${EXTRA[@]+"${EXTRA[@]}"} &
            pids+=($!)
        }

        if ((${#gpus[@]})); then
            for index in "${!gpus[@]}"; do
                gpu=${gpus[$index]}
                node_gpu=${node_gpus[$index]:-$gpu}
                CUDA_VISIBLE_DEVICES=$gpu start "$host-gpu$node_gpu" "$WORK/gpu$node_gpu" --gpu "$gpu"
            done
        else
            start "$host-job$SLURM_JOB_ID" "$WORK/cpu"
        fi
        echo "started ${#pids[@]} worker(s) ($label) on $host against $COORDINATOR (work: $WORK)"

        # A trapped signal interrupts wait; wait again while the worker still runs (it is releasing its cells).
        status=0
        for pid in "${pids[@]}"; do
            while :; do
                code=0
                wait "$pid" || code=$?
                if ((code > 128)) && kill -0 "$pid" 2>/dev/null; then continue; fi
                ((code == 0)) || status=$code
                break
            done
        done
        echo "worker(s) ended (status $status)"
        exit "$status"

        """#
}
