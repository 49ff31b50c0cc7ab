Invariant: ccp-goal-1
Description: "A CCP goal is described in words: a text or a coding's display (the plan's narrative quotes it)."
Expression: "description.text.exists() or description.coding.display.exists()"
Severity: #error

Profile: CCPGoal
Parent: Goal
Id: ccp-goal
Title: "CCP Goal"
Description: "A patient's goal in their Coordinated Care Plan. The plan's narrative lists the goals first, by their description."
* obeys ccp-goal-1
* lifecycleStatus MS
* achievementStatus MS
* description MS
* subject MS
* subject only Reference(Patient)
* subject.reference 1..1 MS
* target MS
* target.due[x] MS
* expressedBy MS
* expressedBy ^short = "Who expressed the goal: the patient's own goals are the plan's first concern"
