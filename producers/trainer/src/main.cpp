#include "trainer.h"

int main(int argc, char** argv) { return lt::run_trainer(argc, argv); }
