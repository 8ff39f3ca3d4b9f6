/* checkpoint_mpi.h -- `mpirun -n N nninit checkpoint ...`: the ranks of one
 * run write one checkpoint together, with MPI-IO collective writes
 * (docs/MPI.md).
 *
 * Every rank builds the same model and calls nninit_model_write as part
 * `rank` of `size` with the sink below (include/nninit_model.h): each file is
 * a temporary next to its target, made by rank 0 and opened by every rank
 * (MPI_File_open); rank 0 writes the header, the ranks write their chunks of
 * each round with MPI_File_write_at_all; commit is MPI_File_sync, close, and
 * rank 0's rename onto the target and fsync of its directory. The bytes are
 * those of a run without MPI.
 *
 * Failures: every step of the sink begins with an MPI_Allreduce of the
 * ranks' status, so a rank that failed (in the sink, in a fill, anywhere in
 * the write) is known to all at the next step; they all then close the file
 * together, rank 0 removes the temporary, and nothing more is collective.
 * The final name never holds a partial file. cli_mpi_agree after the write
 * is the last such step (a failure outside the sink, such as rank 0's
 * index). An error inside a collective MPI-IO call (write, sync, close),
 * where the other ranks may be waiting, ends the job instead (MPI_Abort,
 * the temporary removed first).
 *
 * MPI starts only under a launcher (cli_mpi_launched): a plain run never
 * calls MPI_Init. Built without MPI (no NNINIT_HAVE_MPI), a launch of more
 * than one rank is refused. */
#ifndef NNINIT_TOOLS_CHECKPOINT_MPI_H
#define NNINIT_TOOLS_CHECKPOINT_MPI_H

#include "nninit_model.h"

typedef struct cli_mpi cli_mpi;

/* 1 when an MPI launcher started this process (OMPI_COMM_WORLD_SIZE or
 * PMIX_RANK in the environment: mpirun, mpiexec, srun --mpi=pmix); starts
 * nothing. */
int cli_mpi_launched(void);

/* What --version says of MPI: "MPI: Open MPI v4.1.4" (the library built
 * in), or "MPI: not built in". Starts nothing. */
const char *cli_mpi_about(void);

/* Under a launcher, MPI_Init and *out (the ranks of the run); else *out =
 * NULL. Built without MPI, a launch of more than one rank prints why and
 * returns CLI_EXIT_USAGE. Returns 0 or the exit status. */
int cli_mpi_start(const char *cmd, cli_mpi **out);

int cli_mpi_rank(const cli_mpi *mp); /* 0 when mp is NULL */
int cli_mpi_size(const cli_mpi *mp); /* 1 when mp is NULL */

/* o->sink, sink_ctx, part and parts: this rank's part of the write. */
void cli_mpi_write_opts(cli_mpi *mp, nninit_model_write_opts *o);

/* After nninit_model_write returned s on this rank: NNINIT_OK when every
 * rank's write succeeded, else an error on every rank. */
nninit_status cli_mpi_agree(cli_mpi *mp, nninit_status s);

/* After cli_mpi_agree failed (every rank calls it): rank 0 prints
 * "nninit CMD: rank R of N: why" for the first rank that failed; returns
 * that rank's exit status, the same on every rank. */
int cli_mpi_report(cli_mpi *mp, const char *cmd);

/* MPI_Finalize, and frees mp; NULL: nothing. */
void cli_mpi_end(cli_mpi *mp);

#endif
