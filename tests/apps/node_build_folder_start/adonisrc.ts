// AdonisJS's project file (its presence is what says the build is ace's)
export default {}
