// PLACEHOLDER CLI until the commands land (replaced in the same change).
int main() { return 0; }
